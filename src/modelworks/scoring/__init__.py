"""Deprecated name of :mod:`modelworks.batch` (batch prediction and evaluation of a saved model).

"scoring" means metrics in scikit-learn; the subpackage is now ``modelworks.batch``.
``from modelworks.scoring import predict`` still works until modelworks 0.3 and warns.
"""

from modelworks import _deprecation

__getattr__ = _deprecation.forwarding(__name__)
