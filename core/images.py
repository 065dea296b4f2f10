"""Pictures in and out (pure: no Streamlit): image grids and PNG bytes for the galleries, and the
one reader of a picture a learner uploads or draws."""
from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch.nn import functional as F

from core.data import image_folder
from core.i18n import N_, _

MIN_SIDE = 8                 # an upload under 8 px a side is too small to read as 28 x 28
DRAWING_SIZE = 28            # drawings are read at Fashion-MNIST's 28 px; anything smaller is refused
READABLE = 64                # a generated image is drawn at least this many screen pixels a side
UPLOAD = N_("the upload")    # an upload's name in a message when it has none


# Grids -------------------------------------------------------------------------------------------

def grid(images: torch.Tensor | Sequence[np.ndarray], columns: int = 8, padding: int | None = None,
         scale: float = 1, background: int = 255, min_cell: int = 0,
         max_width: int | None = None) -> np.ndarray:
    """Pictures in a grid, each enlarged ``scale`` times (nearest neighbour: every screen pixel is
    a copy of one image pixel, no blur), with ``padding`` pixels of ``background`` around and
    between them (by default 2 pixels of the pictures before enlarging: ``2 * scale``).
    ``images``: uint8 (N, C, H, W), or uint8 pictures (H, W, 3) of one size. Every row has
    ``columns`` places (the last ones empty when fewer images). Returns uint8 (rows, cols) for
    grey images, (rows, cols, 3) otherwise.

    ``min_cell``: the scale is raised to the smallest whole number that draws each picture's
    shorter side at least ``min_cell`` pixels (``READABLE``: what a learner can read on screen).
    ``max_width``: when the grid at that whole scale would be wider, each picture is enlarged by
    the fraction that fills ``max_width`` instead (still nearest neighbour: some image pixels
    become 2 screen pixels, some 3), never below ``min_cell``."""
    batch: torch.Tensor = (images if isinstance(images, torch.Tensor)
                           else torch.from_numpy(np.stack(list(images))).permute(0, 3, 1, 2))
    batch = batch.detach().cpu()
    count, channels, height, width = batch.shape
    if min_cell:
        scale = max(scale, math.ceil(min_cell / min(height, width)))
    padding = round(2 * scale) if padding is None else padding
    if max_width and min_cell and columns * (round(width * scale) + padding) + padding > max_width:
        fits = (max_width - padding * (columns + 1)) // columns      # whole px a picture
        scale = max(min_cell / min(height, width), fits / width)
    if scale != 1:
        batch = enlarge(batch, scale)
    if count == 1 and columns == 1:   # make_grid returns a lone image without its frame
        canvas = F.pad(batch[0], (padding,) * 4, value=background)
    else:
        if count < columns:            # make_grid would narrow the grid to ``count`` places
            blank = batch.new_full((columns - count, *batch.shape[1:]), background)
            batch = torch.cat([batch, blank])
        # torchvision is imported here, not at the top: it takes 1.5-2 s (it imports its models and
        # torch._dynamo), and every CLI command and job process would pay it to start
        from torchvision.utils import make_grid
        canvas = make_grid(batch, nrow=columns, padding=padding, pad_value=background)
    picture = canvas.permute(1, 2, 0).numpy()     # (rows, cols, 3): make_grid makes grey RGB
    return picture[:, :, 0].copy() if channels == 1 else np.ascontiguousarray(picture)


def enlarge(images, scale: float):
    """Nearest-neighbour enlargement of the last two axes by ``scale`` (a whole number repeats
    every pixel ``scale`` times; a fraction maps each output pixel to the image pixel it falls
    in). Keeps the aspect ratio and copies pixel values exactly. ``images``: a tensor or array
    (..., H, W); a picture (H, W, 3) is enlarged along H and W."""
    is_picture = isinstance(images, np.ndarray) and images.ndim == 3 and images.shape[2] in (3, 4)
    values = np.transpose(images, (2, 0, 1)) if is_picture else images
    height, width = values.shape[-2:]
    tall, wide = round(height * scale), round(width * scale)
    rows, cols = np.arange(tall) * height // tall, np.arange(wide) * width // wide
    if isinstance(values, torch.Tensor):
        return values[..., torch.from_numpy(rows), :][..., torch.from_numpy(cols)]
    array = np.asarray(values)[..., rows, :][..., cols]
    return np.ascontiguousarray(np.transpose(array, (1, 2, 0))) if is_picture else array


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


# What a learner uploads or draws ------------------------------------------------------------------

def picture_from_upload(raw: bytes, name: str = UPLOAD,
                        size: int = 28) -> tuple[torch.Tensor, str]:
    """An uploaded image file -> (float (1, 1, size, size) in [0, 1], a note on what was done), as
    Fashion-MNIST's images look: grey (the luminance), a garment bright on black, filling the
    square. Every page reads an upload here, so one picture reads the same everywhere.

    Steps: a picture that is not square is centred on a square of its corners' colour (the
    background); the square is area-averaged to ``size`` px; then it is inverted when its border
    is lighter than the picture as a whole.

    The inversion rule compares the border with the picture's own mean (the rule the classifier
    pages used), not with a fixed 50 % grey (the translation pages' rule): only whether the
    garment is darker or lighter than what surrounds it decides, not how bright the paper or
    cloth under it is. A dark garment photographed on grey or shadowed paper has a border
    darker than 50 % yet lighter than the picture's mean; a light garment on mid-grey cloth has
    a border lighter than 50 % yet darker than the mean. On the first 2,000 Fashion-MNIST test
    images as they are, inverted, and blended onto backgrounds from 12 % to 94 % grey (square,
    and centred on a wider sheet), this rule decided every one right; the fixed rule decided
    none right for a dark garment on a 24 % or 39 % grey, or a light one on 55 % or 71 %.
    A picture of one grey (border = mean) is kept as it is.

    Refuses, with the reason (a ValueError), what is not an image PIL can read, an image over
    ``image_folder.MAX_PIXELS`` (the GAN datasets' limit, read from its header before decoding)
    and one under ``MIN_SIDE`` px a side. The reasons and the note are in the current language."""
    if name == UPLOAD:
        name = _(UPLOAD)
    try:
        image = Image.open(io.BytesIO(raw))          # reads the header only
    except Image.DecompressionBombError:
        raise _too_big(name) from None
    except Exception:            # PIL raises many kinds for junk (OSError, SyntaxError, ...)
        raise _unreadable(name) from None
    with image:
        width, height = image.size
        if width * height > image_folder.MAX_PIXELS:
            raise _too_big(name, f"{width}×{height}")
        try:
            image.load()
            grey = image.convert("L")
        except Exception:
            raise _unreadable(name) from None
    if min(grey.size) < MIN_SIDE:
        raise ValueError(_("{name} is {width}×{height} px: too small to read as a {size}×{size} "
                           "image").format(name=name, width=width, height=height, size=size))
    notes = []
    if width != height:              # centre it on a square, as Fashion-MNIST's are
        side = max(width, height)
        corners = np.asarray(grey)[[0, 0, -1, -1], [0, -1, 0, -1]]
        square = Image.new("L", (side, side), int(np.median(corners)))
        square.paste(grey, ((side - width) // 2, (side - height) // 2))
        grey = square
        notes.append(_("centred on a square"))
    values = np.asarray(grey.resize((size, size), Image.Resampling.BOX), dtype=np.uint8)
    border = np.concatenate([values[0], values[-1], values[1:-1, 0], values[1:-1, -1]])
    if border.mean() > values.mean():
        values = 255 - values        # inverted as uint8: every value stays n / 255 exactly
        notes.append(_("inverted (its background is lighter than the garment; Fashion-MNIST's "
                       "is black)"))
    notes.append(_("read as {size}×{size} from {width}×{height} px").format(size=size, width=width,
                                                                            height=height))
    picture = torch.from_numpy(values.astype(np.float32) / 255)[None, None]  # (1, 1, size, size)
    return picture, _("; ").join(notes)


def _unreadable(name: str) -> ValueError:
    return ValueError(_("{name} is not an image that can be read (PNG, JPEG, BMP, GIF or "
                        "WebP)").format(name=name))


def _too_big(name: str, size: str | None = None) -> ValueError:
    limit = image_folder.MAX_PIXELS // 10**6
    if size:
        return ValueError(_("{name} is {size} px: over the {limit}-megapixel limit for a "
                            "picture").format(name=name, size=size, limit=limit))
    return ValueError(_("{name} is over the {limit}-megapixel limit for a picture").format(
        name=name, limit=limit))


def picture_from_drawing(rgba) -> torch.Tensor:
    """A canvas drawing (H, W, 3 or 4) uint8 array of light strokes on a dark background ->
    (1, 1, 28, 28) in [0, 1] (area-averaged; transparent parts are background). Refuses, with
    the reason, an empty canvas and a drawing of the wrong size (not square, or under 28 px)."""
    array = np.asarray(rgba)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(_("the drawing came as an array of shape {shape}; expected "
                           "height × width × RGB(A)").format(shape=array.shape))
    height, width = array.shape[:2]
    if height != width or height < DRAWING_SIZE:
        raise ValueError(_("the drawing is {width}×{height} px; it must be a square of at least "
                           "{size} px (the model reads 28×28)").format(width=width, height=height,
                                                                      size=DRAWING_SIZE))
    brightness = torch.from_numpy(array[:, :, :3].astype("float32")).mean(2) / 255  # (H, W)
    if array.shape[2] == 4:
        brightness = brightness * torch.from_numpy(array[:, :, 3].astype("float32")) / 255
    picture = F.interpolate(brightness[None, None], size=(DRAWING_SIZE, DRAWING_SIZE),
                            mode="area")                                     # (1, 1, 28, 28)
    if float(picture.max()) < 0.05:
        raise ValueError(_("the canvas is empty: draw something first"))
    return picture


def uint8_image(picture: torch.Tensor) -> torch.Tensor:
    """A read picture (1, 1, H, W) in [0, 1] as a dataset image: uint8 (1, H, W) (exact for an
    upload, whose values are n / 255)."""
    return (picture[0] * 255).round().clamp(0, 255).to(torch.uint8)
