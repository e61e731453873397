"""Device and precision in one place: ``get_device()``, ``autocast()`` (mixed precision on CUDA only),
``set_matmul_precision()`` (TF32) and ``keep_freed_memory()`` (the CPU allocator, a speed setting)."""
from __future__ import annotations

import contextlib
import ctypes
import platform

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


M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4      # glibc's mallopt() parameters (malloc.h)


def on_glibc() -> bool:
    """Whether this process runs on Linux with glibc's allocator (what ``keep_freed_memory`` tunes)."""
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def keep_freed_memory() -> bool:
    """Let glibc's ``malloc`` keep the memory a training step frees, for the next step to reuse.

    A step allocates and frees tensors of the same sizes every time (activations, gradients: the
    full profile's token-embedding gradient alone is 49408 x 512 floats, 100 MB). By default glibc
    serves every large block with a fresh ``mmap`` and returns it to the system when it is freed, so
    the next step pays a page fault for each of its 4 KiB pages again (expensive in a virtual
    machine). After this call blocks come from the heap (``M_MMAP_MAX`` 0) and the heap is not
    shrunk below 2 GiB of free space at its top (``M_TRIM_THRESHOLD``): the same allocator reuse
    that PyTorch's CPU performance guide gets by preloading jemalloc or tcmalloc. Speed only, the
    numbers are unchanged; the process's resident memory stays at its peak instead of shrinking.
    Process-wide; glibc (Linux) only, elsewhere nothing happens. -> whether it was applied."""
    if not on_glibc():
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))
