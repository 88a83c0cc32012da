"""Progress bars for long work: on stderr, only when a person is watching."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any


def enabled() -> bool:
    """Bars show on an interactive stderr unless ``MODELWORKS_PROGRESS=0``; ``=1`` forces them."""
    flag = os.environ.get("MODELWORKS_PROGRESS")
    if flag is not None:
        return flag not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
             unit: str = "it", **kwargs: Any):
    """A ``tqdm`` bar that is silent when nobody is watching (tests, CI, pipes)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled(),
                file=sys.stderr, leave=False, dynamic_ncols=True, **kwargs)
