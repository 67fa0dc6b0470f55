"""Training a GAN: what one step does and the state it changes.

    gan.py            GAN: the two networks, their optimisers, the step counter, the random
                      generator and the weight average (what a checkpoint keeps)
    step.py           the train step, top to bottom (read simultaneous_update first)
    tricks.py         Tricks and the step's tricks as pure functions
    losses.py         six loss pairs from logits; the gradient penalty
    augment.py        DiffAugment
    ema.py            the weight average of G
    spectral_norm.py  spectral normalisation of D
    distribute.py     pick_strategy(), mixed precision, the CPU's time budget
    build.py          build_gan(config): models + optimisers + loss + tricks -> GAN

This package's ``__init__`` imports nothing, so ``gan_lib.training.distribute`` loads alone.
"""
