"""What the job forkserver imports once, for every job forked from it (``core/job_process.py``):
torch, the loop, every model, and torch._dynamo, which torch imports on the first optimizer made
(3 s of a job's start). The server itself does not import this module: it trains nothing, and
torch._dynamo alone would add about 2 s to a page's first Load pretrained or Train."""
import torch  # noqa: F401
import torch._dynamo  # noqa: F401

from core import i18n, registry, runs, training, worker  # noqa: F401
