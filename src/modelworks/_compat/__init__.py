"""Private names of third-party libraries that modelworks relies on, one module per library.

Nothing else in modelworks imports a library's underscore names: it goes through here, so a
library release that moves one breaks in exactly one place, and ``tests/test_compat.py`` states
each assumption as a test that fails loudly (naming the name and the installed version).
Heavy libraries (Optuna, shap) are imported inside the functions, as everywhere in modelworks.
"""
