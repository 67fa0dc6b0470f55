"""A training run, from its config to its GIF: what it holds and the files it keeps.

    run.py          Run: config, folder, data, GAN, fixed noise, checkpoints, history, frames;
                    open / load / train / frame / measure / checkpoint / finish
    loop.py         the steps of one session and their periodic jobs (nanoGPT's loop)
    training.py     train(config, out_dir) and open_run(run_dir): the public doors
    schedule.py     at which step a run logs, draws, measures, checkpoints
    folder.py       RunFolder: the paths of a run's files and the folder's own files
    history.py      HistoryFile (history.csv) and read_history
    frames.py       FrameStore: frames/step_*.png
    checkpoints.py  which checkpoint a resume may trust

The public names are ``gan_lib``'s: ``train``, ``open_run``, ``Run``, ``RunFolder``,
``read_history``. This package's ``__init__`` imports nothing, so ``gan_lib.run.folder`` (the
command line, ``gan_lib.share``) loads without TensorFlow.
"""
