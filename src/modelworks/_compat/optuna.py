"""Optuna's private names: the study's storage and ids, the heartbeat base, ``Study._get_trials``.

* ``Study._storage``, ``Study._study_id``, ``Trial._trial_id`` / ``FrozenTrial._trial_id``: the
  storage calls that mark a trial failed, record its worker and list stale trials need them.
* ``optuna.storages._heartbeat.BaseHeartbeat`` and its abstract ``_get_stale_trial_ids(study_id)``:
  the journal storage gains a heartbeat by inheriting it (Optuna's RDB storage has one; its
  journal storage does not), and stale trials are listed through that method.
* ``Study._get_trials(deepcopy, states, use_cache)``: what Optuna's samplers call to read the
  study, so a view of the study that samplers see overrides that method.
"""

from __future__ import annotations

from typing import Any

GET_TRIALS = "_get_trials"  # the Study method Optuna's samplers read trials through
STALE_TRIAL_IDS = "_get_stale_trial_ids"  # the method a BaseHeartbeat storage lists stale trials with


def storage_of(study: Any) -> Any:
    """The storage a study (or a view of one) reads and writes through."""
    return study._storage


def study_id(study: Any) -> int:
    """The storage's id of a study."""
    return study._study_id


def trial_id(trial: Any) -> int:
    """The storage's id of a trial (a running ``Trial`` or a ``FrozenTrial``)."""
    return trial._trial_id


def get_trials(study: Any, *, states: Any = None) -> list:
    """All trials, uncopied and uncached, as the samplers read them (``Study._get_trials``)."""
    return getattr(study, GET_TRIALS)(deepcopy=False, states=states, use_cache=False)


def base_heartbeat() -> type:
    """``optuna.storages._heartbeat.BaseHeartbeat``, the heartbeat mixin of a storage."""
    from optuna.storages._heartbeat import BaseHeartbeat

    return BaseHeartbeat


def heartbeat_stale_trial_ids(study: Any) -> list[int]:
    """Trial ids a heartbeat storage calls stale (none where the storage has no heartbeat)."""
    storage = storage_of(study)
    getter = getattr(storage, STALE_TRIAL_IDS, None)
    if getter is None or getattr(storage, "get_heartbeat_interval", lambda: None)() is None:
        return []
    return list(getter(study_id(study)))
