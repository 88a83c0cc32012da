"""Formulas are data, not code.

patsy evaluates every term of a formula as Python (``y ~ __import__('os').system(...)`` runs a
command), so modelworks reads a formula before patsy sees it: patsy's own parser splits it into
formula operators (``~ + - * / : **``, parentheses, numbers) and Python pieces, and each piece
is parsed with :mod:`ast` and walked against the allow-list below. Nothing is evaluated while
checking.

Accepted in a Python piece:

- a name: a data column, or one of :data:`FUNCTIONS` / :data:`CONTRASTS`;
- ``np.<f>`` / ``numpy.<f>`` for ``f`` in :data:`NUMPY_FUNCTIONS` (no other attribute access);
- calls of those functions, with positional or keyword arguments built from the same pieces;
- numbers, strings, ``True``/``False``/``None``, lists and tuples of them (``levels=[...]``);
- arithmetic and comparisons inside ``I(...)``: ``+ - * / // % **`` (a ``**`` exponent is a
  column or a number up to :data:`MAX_EXPONENT`), unary ``-``/``+``, ``< <= > >= == !=``.

Refused with :class:`~modelworks.exceptions.StatsError`: any name starting with ``__``,
attributes other than the numpy ones, subscripts, lambdas, comprehensions, f-strings,
walrus, starred arguments, calls of anything else (``open``, ``eval``, ``getattr``, a column,
the result of another call), and strings used as operands.
"""

from __future__ import annotations

import ast

from modelworks.exceptions import StatsError

# patsy built-ins a formula may call (each is a data transform or a factor marker)
FUNCTIONS = {
    "C": "marks a categorical factor, C(x, Treatment('a')) / C(x, levels=[...])",
    "I": "protects arithmetic inside it from formula operators, I(x**2)",
    "Q": "quotes a column name that is not a Python name, Q('my col')",
    "center": "stateful transform: subtract the training mean",
    "standardize": "stateful transform: centre and scale",
    "scale": "alias of standardize",
    "bs": "B-spline basis",
    "cr": "natural cubic regression spline basis",
    "cc": "cyclic cubic regression spline basis",
    "te": "tensor product of spline bases",
    "log": "natural logarithm (numpy.log), as in R formulas",
    "log1p": "log(1 + x) (numpy.log1p)",
    "exp": "exponential (numpy.exp)",
    "sqrt": "square root (numpy.sqrt)",
    "abs": "absolute value (numpy.abs)",
}
# contrast codings, used as arguments of C()
CONTRASTS = {
    "Treatment": "dummy coding against a reference level",
    "Sum": "deviation (sum-to-zero) coding",
    "Poly": "orthogonal polynomial coding of ordered levels",
    "Diff": "backward difference coding",
    "Helmert": "Helmert coding",
}
# numpy functions reachable as np.<name> / numpy.<name>: elementwise maths only
NUMPY_FUNCTIONS = {
    "log": "logarithm",
    "log1p": "log(1 + x)",
    "log2": "base-2 logarithm",
    "log10": "base-10 logarithm",
    "exp": "exponential",
    "expm1": "exp(x) - 1",
    "sqrt": "square root",
    "square": "x**2",
    "abs": "absolute value",
    "absolute": "absolute value",
    "sign": "sign",
    "power": "x**p",
    "sin": "sine",
    "cos": "cosine",
    "tanh": "hyperbolic tangent",
    "arcsinh": "inverse hyperbolic sine",
    "floor": "round down",
    "ceil": "round up",
    "clip": "bound values",
    "maximum": "elementwise maximum",
    "minimum": "elementwise minimum",
}
NUMPY_MODULES = ("np", "numpy")
MAX_EXPONENT = 1000  # a literal exponent above this is refused (9**10**9 would never finish)
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
_COMPARE = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
_UNARY = (ast.USub, ast.UAdd)
_HELP = (
    "formulas accept column names, interactions (a:b, a*b), C(x) with Treatment/Sum/..., "
    "I(arithmetic), np.log/np.exp/np.sqrt-style transforms and -1/+0; rename odd columns "
    "or use Q('name')"
)


class _Refused(Exception):
    """A piece of a formula that is not allowed (turned into StatsError with context)."""


def _eval_namespace() -> dict:
    import numpy as np

    out = {m: np for m in NUMPY_MODULES}
    for name in ("log", "log1p", "exp", "sqrt", "abs"):
        out[name] = getattr(np, name)
    return out


def eval_env():
    """The patsy environment formulas are evaluated in: numpy and the bare transforms only."""
    import patsy

    return patsy.EvalEnvironment([_eval_namespace()])


def _dunder(name: str) -> bool:
    return name.startswith("__")


class _Checker:
    def __init__(self) -> None:
        self.columns: list[str] = []

    def column(self, name: str) -> None:
        if _dunder(name):
            raise _Refused(f"the name {name!r} (names starting with '__' are not allowed)")
        if name not in self.columns:
            self.columns.append(name)

    def callee(self, node: ast.expr) -> str:
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS or node.id in CONTRASTS:
                return node.id
            raise _Refused(f"a call of {node.id!r} (callable here: {', '.join(sorted(FUNCTIONS | CONTRASTS))})")
        if isinstance(node, ast.Attribute):
            return self.numpy_attribute(node)
        raise _Refused(f"a call of {ast.unparse(node)!r} (only named functions can be called)")

    def numpy_attribute(self, node: ast.Attribute) -> str:
        base = node.value
        if not (isinstance(base, ast.Name) and base.id in NUMPY_MODULES and node.attr in NUMPY_FUNCTIONS):
            raise _Refused(
                f"the attribute {ast.unparse(node)!r} (only np.<f> for f in "
                f"{', '.join(sorted(NUMPY_FUNCTIONS))})"
            )
        return f"np.{node.attr}"

    def visit(self, node: ast.AST, *, operand: bool = False) -> None:
        handler = self._HANDLERS.get(type(node))
        if handler is None:
            raise _Refused(f"{ast.unparse(node)!r} ({type(node).__name__} is not allowed in a formula)")
        handler(self, node, operand)

    def _name(self, node: ast.Name, operand: bool) -> None:
        if node.id in NUMPY_MODULES:
            raise _Refused(f"the bare module name {node.id!r} (use np.<function>(column))")
        if node.id in CONTRASTS or node.id in FUNCTIONS:
            return
        self.column(node.id)

    def _constant(self, node: ast.Constant, operand: bool) -> None:
        value = node.value
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, int | float):
            return
        if isinstance(value, str) and not operand:
            return
        raise _Refused(f"the constant {value!r} here")

    def _sequence(self, node: ast.List | ast.Tuple, operand: bool) -> None:
        if operand:
            raise _Refused(f"{ast.unparse(node)!r} as an operand")
        for item in node.elts:
            if not isinstance(item, ast.Constant):
                raise _Refused(f"{ast.unparse(item)!r} in a list (lists hold literal values only)")
            self._constant(item, False)

    def _call(self, node: ast.Call, operand: bool) -> None:
        name = self.callee(node.func)
        if name == "Q":
            if (
                len(node.args) != 1
                or node.keywords
                or not isinstance(node.args[0], ast.Constant)
                or not isinstance(node.args[0].value, str)
            ):
                raise _Refused(f"{ast.unparse(node)!r} (Q takes one quoted column name)")
            self.column(node.args[0].value)
            return
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg is None or kw.arg.startswith("_"):
                raise _Refused(f"the argument {ast.unparse(kw)!r}")
            self.visit(kw.value)

    def _binop(self, node: ast.BinOp, operand: bool) -> None:
        if not isinstance(node.op, _ARITHMETIC):
            raise _Refused(f"the operator in {ast.unparse(node)!r}")
        if isinstance(node.op, ast.Pow):
            exp = node.right
            if isinstance(exp, ast.UnaryOp) and isinstance(exp.op, _UNARY):
                exp = exp.operand
            literal = isinstance(exp, ast.Constant) and isinstance(exp.value, int | float) and not isinstance(exp.value, bool)
            if not (isinstance(exp, ast.Name) or (literal and abs(exp.value) <= MAX_EXPONENT)):
                raise _Refused(
                    f"the exponent in {ast.unparse(node)!r} (a column or a number up to {MAX_EXPONENT})"
                )
        self.visit(node.left, operand=True)
        self.visit(node.right, operand=True)

    def _unary(self, node: ast.UnaryOp, operand: bool) -> None:
        if not isinstance(node.op, _UNARY):
            raise _Refused(f"the operator in {ast.unparse(node)!r}")
        self.visit(node.operand, operand=True)

    def _compare(self, node: ast.Compare, operand: bool) -> None:
        if not all(isinstance(op, _COMPARE) for op in node.ops):
            raise _Refused(f"the comparison {ast.unparse(node)!r}")
        for part in (node.left, *node.comparators):
            self.visit(part, operand=True)

    def _attribute(self, node: ast.Attribute, operand: bool) -> None:
        self.numpy_attribute(node)  # np.pi-like constants are not needed; functions only as callees
        raise _Refused(f"{ast.unparse(node)!r} without a call (use {ast.unparse(node)}(column))")

    _HANDLERS = {
        ast.Name: _name,
        ast.Constant: _constant,
        ast.List: _sequence,
        ast.Tuple: _sequence,
        ast.Call: _call,
        ast.BinOp: _binop,
        ast.UnaryOp: _unary,
        ast.Compare: _compare,
        ast.Attribute: _attribute,
    }


def _python_pieces(formula: str) -> list[str]:
    from patsy import PatsyError
    from patsy.parse_formula import parse_formula

    try:
        tree = parse_formula(formula)
    except PatsyError as e:
        raise StatsError(f"cannot read the formula {formula!r}: {e.message}; {_HELP}") from e
    pieces: list[str] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.args:
            stack.extend(reversed(node.args))
        elif node.type == "PYTHON_EXPR":
            pieces.append(node.token.extra)
    return pieces


def check_formula(formula, *, what: str = "formula") -> list[str]:
    """Check that a patsy formula is data, and return the column names it uses, in order.

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + C(g) + np.log(x2)"``, a right-hand side (``"0 + x"``) or ``"~x"``.
    what : str
        How to call the formula in messages (``"re_formula"``...).

    Raises
    ------
    StatsError
        The formula is not a string, does not parse, or holds Python outside the allow-list
        (the message names the piece and what is accepted).
    """
    if not isinstance(formula, str):
        raise StatsError(f"{what} must be a string like 'y ~ x1 + x2', got {type(formula).__name__}")
    checker = _Checker()
    for piece in _python_pieces(formula):
        try:
            expr = ast.parse(piece.strip(), mode="eval").body
        except SyntaxError as e:
            raise StatsError(f"cannot read {piece!r} in {what} {formula!r}: {e.msg}; {_HELP}") from e
        try:
            checker.visit(expr)
        except _Refused as e:
            raise StatsError(f"{what} {formula!r} is refused: {e} ({_HELP})") from None
        except RecursionError:
            raise StatsError(f"{what} {formula!r} is refused: nested too deeply ({_HELP})") from None
    return checker.columns
