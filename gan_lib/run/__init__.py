"""A training run, from its config to its GIF: what it holds and the files it keeps.

    run.py          Run: config, folder, data, GAN, fixed noise, checkpoints, history, frames;
                    open / load / train, the periodic jobs (check / save_frame / evaluate /
                    log / checkpoint), the divergence roll-back, finish
    loop.py         the steps of one session, each periodic job one line at its interval
                    (nanoGPT's loop)
    pictures.py     the fixed noise's frame; samples.png, losses.png and the GIF
    training.py     train(config, out_dir) and open_run(run_dir): the public doors
    finished.py     a finished run's sample(run_dir, n) and evaluate_run(run_dir)
    folder.py       RunFolder: the paths of a run's files and the folder's own files
    history.py      HistoryFile (history.csv) and read_history
    frames.py       FrameStore: frames/step_*.png
    checkpoints.py  which checkpoint a resume may trust
    sampling.py     sample_from(generator, config, n): samples in batches, for frames,
                    metrics and finished runs

The public names are ``gan_lib``'s: ``train``, ``open_run``, ``Run``, ``RunFolder``,
``read_history``. This package's ``__init__`` imports nothing, so ``gan_lib.run.folder`` (the
command line, ``gan_lib.share``) loads without TensorFlow.
"""
