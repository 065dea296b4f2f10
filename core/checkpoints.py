"""Checkpoints: plain dicts of tensors and numbers, written atomically, loaded with weights_only=True.

Loading never runs code from the file (torch.load(weights_only=True) refuses pickled objects),
and every way a file can be wrong gets its own clear message.
"""
from __future__ import annotations

import io
import os
import pickle
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

import torch

from core.i18n import _

FORMAT_VERSION = 1
MAX_BYTES = 200 * 1024 * 1024


class CheckpointError(ValueError):
    """The file cannot be used as a checkpoint; str(error) says why in one line (in the language
    of the thread of work that loaded it: a page shows it as it is)."""


def save(path: str | os.PathLike, payload: dict) -> Path:
    """Write ``payload`` to ``path`` via a temporary file and a rename: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format_version": FORMAT_VERSION, **payload}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            torch.save(payload, stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)  # mkstemp makes 0600; checkpoints are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def load(source: str | os.PathLike | bytes | BinaryIO, expected_model: str | None = None) -> dict:
    """Load and check a checkpoint. Raises CheckpointError with a message that says what is wrong."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise CheckpointError(_("no such checkpoint file: {path}").format(path=path))
        if path.stat().st_size > MAX_BYTES:
            raise CheckpointError(_("file is larger than {size} MB: refused").format(
                size=MAX_BYTES // 2**20))
        raw = path.read_bytes()
    elif isinstance(source, bytes):
        raw = source
    else:
        raw = source.read()
    if len(raw) == 0:
        raise CheckpointError(_("the file is empty: not a checkpoint"))
    if len(raw) > MAX_BYTES:
        raise CheckpointError(_("file is larger than {size} MB: refused").format(
            size=MAX_BYTES // 2**20))
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        if raw[:4] == b"PK\x03\x04":
            raise CheckpointError(_("the file is truncated or corrupted (its zip directory is "
                                    "missing)"))
        if raw[:1] == b"\x80":
            raise CheckpointError(_("the file is a raw Python pickle, not a DL Studio checkpoint; "
                                    "refused without unpickling it (pickles can run code)"))
        raise CheckpointError(_("the file is not a checkpoint (not a PyTorch file)"))
    try:
        payload = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(_("the file holds Python objects other than tensors and numbers; "
                                "refused for safety (no code from it was run)")) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise CheckpointError(_("the file is truncated or corrupted ({detail})").format(
            detail=str(error)[:120])) from error
    if not isinstance(payload, dict) or "format_version" not in payload or "model" not in payload:
        raise CheckpointError(_("a PyTorch file, but not a DL Studio checkpoint "
                                "(no format_version/model inside)"))
    if payload["format_version"] > FORMAT_VERSION:
        raise CheckpointError(_("checkpoint format {found} is newer than this app understands "
                                "({supported}); update DL Studio").format(
            found=payload["format_version"], supported=FORMAT_VERSION))
    if expected_model is not None and payload["model"] != expected_model:
        raise CheckpointError(_("this checkpoint is for model '{found}', not '{expected}'").format(
            found=payload["model"], expected=expected_model))
    for key in ("config", "state_dict", "step"):
        if key not in payload:
            raise CheckpointError(_("checkpoint is missing '{key}'").format(key=key))
    check_tensors(payload)
    return payload


MAX_TENSOR_BYTES = 2 * MAX_BYTES     # what every tensor of a payload may take once materialised
MAX_DEPTH = 12


def check_tensors(payload) -> None:
    """Refuse a payload whose tensors would cost more memory than the file: a tensor must be
    backed by its own storage (an expanded, stride-0 tensor of a huge shape passes
    ``weights_only`` loading and then fills gigabytes when used), and all of them together may
    take at most ``MAX_TENSOR_BYTES`` (many views of one storage). Also refuses nesting deeper
    than a checkpoint has."""
    total = 0

    def walk(value, where: str, depth: int) -> None:
        nonlocal total
        if depth > MAX_DEPTH:
            raise CheckpointError(_("'{where}' is nested deeper than a checkpoint is: "
                                    "refused").format(where=where))
        if isinstance(value, torch.Tensor):
            needed = value.numel() * value.element_size()
            if value.numel() and (any(stride == 0 for size, stride in
                                      zip(value.shape, value.stride()) if size > 1)
                                  or value.untyped_storage().nbytes() < needed):
                raise CheckpointError(_(
                    "tensor '{where}' (shape {shape}) is not backed by its own data ({stored:,} "
                    "bytes for {needed:,}): refused").format(
                    where=where, shape=tuple(value.shape),
                    stored=value.untyped_storage().nbytes(), needed=needed))
            total += needed
            if total > MAX_TENSOR_BYTES:
                raise CheckpointError(_("the tensors would take more than {size} MB in memory: "
                                        "refused").format(size=MAX_TENSOR_BYTES // 2**20))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key), depth + 1)
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{where}[{index}]", depth + 1)

    walk(payload, "", 0)
