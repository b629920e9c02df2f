"""ImageNet-C style corruptions for the synthetic IN-C scenario, grouped into the eight official fixes.

The official IN-C environment accepts exactly one intervention per entry, the fix of its corruption
family, recognised by a keyword (brightness, contrast, saturation, deblur, denoise, compression,
resolution, artifacts). ``FIX_OPTIONS`` holds one option text per family, each containing exactly one of
those keywords (two keywords in one text would make the official action parser fail).

The pixels come from the ``imagecorruptions`` package (Hendrycks & Dietterich's ImageNet-C code). Three
of its corruptions do not run with the numpy 2 / scikit-image 0.26 stack of this project (glass_blur and
gaussian_blur pass a removed ``multichannel`` argument, fog uses ``np.float_``), so they are left out.
The package also imports ``pkg_resources`` only to locate its frost textures; setuptools >= 81 no longer
ships that module, so a minimal stand-in is registered before the import when the real one is absent.

At our 84 px scale the package's severity 5 still leaves a flat-coloured object recognisable, so the
IN-C maker first fades the object toward its background by ``FADE[level]`` and then applies the
corruption at severity ``level``: what the model sees is the family's corruption, and the object under it
is faint at high levels (unrecognisable at 4-5) and clear at 1-2. The package's ``saturate`` turns from
desaturation (severities 1-2) to over-saturation (3-5), which would amplify a faded colour again; the
saturation family therefore keeps to its desaturating severities (``SEVERITY_BY_LEVEL``).

The IN-C object sits on a photo-like surface (``drawing.scene_background``: soft colour regions under fine
sharp stripes), not on the pale flat surface of the other scenarios: the fix is inferable only if the frame
shows the corruption, and desaturating or blurring a flat pale surface shows nothing. A 3-nearest-neighbour
vote over ten image statistics names the family of a level-5 frame 99% of the time (0.86 on the flat surface;
``tests/test_synth.py``).
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types
import warnings

import numpy as np
from PIL import Image

FIX_OPTIONS: dict[str, str] = {
    "brightness": "Adjust the brightness of the image.",
    "contrast": "Increase the contrast of the image.",
    "saturation": "Correct the colour saturation of the image.",
    "blur": "Deblur the image.",
    "noise": "Denoise the image.",
    "compression": "Reduce the JPEG compression of the image.",
    "resolution": "Increase the resolution of the image.",
    "artifacts": "Remove the artifacts from the image.",
}

FAMILY_CORRUPTIONS: dict[str, tuple[str, ...]] = {
    "brightness": ("brightness",),
    "contrast": ("contrast",),
    "saturation": ("saturate",),
    "blur": ("defocus_blur", "motion_blur", "zoom_blur"),
    "noise": ("gaussian_noise", "shot_noise", "impulse_noise", "speckle_noise"),
    "compression": ("jpeg_compression",),
    "resolution": ("pixelate",),
    "artifacts": ("snow", "frost", "spatter", "elastic_transform"),
}

# Share of the object's contrast to its background removed before corrupting, per level (0 = clean).
FADE = (0.0, 0.0, 0.3, 0.6, 0.88, 0.96)
# Package severity used at each level, when it is not the level itself.
SEVERITY_BY_LEVEL = {"saturate": (0, 1, 1, 2, 2, 2)}
# ImageNet-C's salt-and-pepper amounts per severity: the package hands them to scikit-image's random_noise
# without a seed (a fresh unseeded generator since scikit-image 0.19), so impulse_noise is drawn here with ours
IMPULSE_AMOUNTS = (0.03, 0.06, 0.09, 0.17, 0.27)


def _install_pkg_resources_stand_in() -> None:
    if "pkg_resources" in sys.modules or importlib.util.find_spec("pkg_resources") is not None:
        return

    def resource_filename(package: str, resource: str) -> str:
        spec = importlib.util.find_spec(package)
        origin = spec.origin if spec is not None else None
        if origin is None:
            raise ModuleNotFoundError(package)
        return os.path.join(os.path.dirname(origin), resource)

    stand_in = types.ModuleType("pkg_resources")
    stand_in.resource_filename = resource_filename  # type: ignore[attr-defined]
    sys.modules["pkg_resources"] = stand_in


def _corrupt_fn():
    _install_pkg_resources_stand_in()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from imagecorruptions import corrupt
    return corrupt


def corrupt_image(image: Image.Image, corruption: str, level: int, seed: int) -> Image.Image:
    """``image`` corrupted at ``level`` (0 = unchanged, 1..5 = increasingly severe), deterministic in ``seed``.

    imagecorruptions draws from numpy's global generator; it is seeded here and restored afterwards so
    that callers' global random state is untouched (impulse_noise, which the package draws from an unseeded
    scikit-image generator, gets ``seed`` directly).
    """
    if level == 0:
        return image.copy()
    corrupt = _corrupt_fn()
    state = np.random.get_state()
    try:
        np.random.seed(seed % 2**32)
        pixels = np.asarray(image.convert("RGB"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            severity = SEVERITY_BY_LEVEL.get(corruption, range(6))[level]
            if corruption == "impulse_noise":
                from skimage.util import random_noise

                noisy = random_noise(
                    pixels / 255.0, mode="s&p", amount=IMPULSE_AMOUNTS[severity - 1], rng=seed % 2**32
                )
                pixels = (np.clip(noisy, 0, 1) * 255).astype(np.uint8)
            else:
                pixels = np.asarray(corrupt(pixels, corruption_name=corruption, severity=severity)).astype(np.uint8)
    finally:
        np.random.set_state(state)
    return Image.fromarray(pixels[..., :3])
