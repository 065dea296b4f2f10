"""GANs, one file per paper: gan.py (Goodfellow et al. 2014), dcgan.py (Radford et al. 2015)."""
