"""Device and precision in one place: ``get_device()``, ``autocast()`` (mixed precision on CUDA only),
and ``set_matmul_precision()`` (TF32)."""
from __future__ import annotations

import contextlib

import torch

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def get_device(name: str = "auto") -> torch.device:
    """"auto" -> cuda when available, else cpu; "cuda" without a GPU is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch sees no GPU; use --device cpu or auto")
    return device


def autocast(device: torch.device, precision: str):
    """``torch.autocast`` to fp16/bf16 on CUDA; on CPU, or for fp32 and tf32, a no-op (CPU runs in fp32)."""
    if device.type != "cuda" or precision not in DTYPES:
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=DTYPES[precision])


def grad_scaler(device: torch.device, precision: str) -> torch.amp.GradScaler:
    """Loss scaling for fp16 on CUDA (bf16 and fp32 need none: the scaler is then disabled, a no-op)."""
    return torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and precision == "fp16")


def set_matmul_precision(precision: str) -> None:
    """``tf32``: fp32 weights, activations and gradients, but CUDA matrix products on the TF32 tensor cores
    (10-bit mantissa like fp16, fp32's range: no loss scaling). Process-wide, so the backward pass (run
    outside any ``autocast`` block) uses it too; every other precision keeps torch's fp32 matrix products.
    No effect on the CPU."""
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
