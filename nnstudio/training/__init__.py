"""The Qt-free training engine: settings, datasets, the event-driven Trainer and checkpoints.

Typical use (the CLI and the GUI worker do exactly this):

    job = prepare(project, base_dir)          # raises TrainingInputError naming the bad place
    trainer = Trainer(job, out_dir="runs/1")  # on any thread
    trainer.on(Event.EPOCH_ENDED, handler)    # handlers run on the training thread
    result = trainer.run()                    # request_stop()/pause()/resume() from any thread

Names are imported lazily so that `nnstudio.training.threads` can be used before torch is imported.
"""

from __future__ import annotations

from nnstudio.util.lazy import lazy_exports

_EXPORTS = {
    "Trainer": "nnstudio.training.engine",
    "RunResult": "nnstudio.training.loop_state",
    "Event": "nnstudio.training.events",
    "EventInfo": "nnstudio.training.events",
    "Status": "nnstudio.training.events",
    "TrainingSettings": "nnstudio.training.settings",
    "SettingsError": "nnstudio.training.settings",
    "parse_settings": "nnstudio.training.settings",
    "training_problems": "nnstudio.training.problems",
    "prepare": "nnstudio.training.job",
    "TrainingJob": "nnstudio.training.job",
    "TrainingInputError": "nnstudio.training.job",
    "with_overrides": "nnstudio.training.job",
    "load_checkpoint": "nnstudio.training.checkpoint",
    "CheckpointError": "nnstudio.training.checkpoint",
    "configure_torch": "nnstudio.training.threads",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports("nnstudio.training", _EXPORTS)
