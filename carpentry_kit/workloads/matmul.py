"""``matmul``: dense square matrix multiplies, the "hello world" of performance measurement.

A step multiplies two ``size`` x ``size`` matrices ``multiplies`` times (each multiply is one sample of
``2 size**3`` flop, so the runner derives GFLOP/s, moving at least ``3 size**2`` elements). Quality is the relative error of the product against a
float64 reference, which shows what a lower precision such as bfloat16 costs.
"""

from __future__ import annotations

from carpentry_kit.workloads import Workload, register_workload

DTYPES = ("float32", "float64", "bfloat16")


@register_workload
class MatMul(Workload):
    name = "matmul"
    summary = "Multiply two dense square matrices with torch.matmul; GFLOP/s from 2 n^3 flop a multiply"
    scenarios = ("offline",)
    defaults = {"size": 256, "dtype": "float32", "multiplies": 8}
    choices = {"dtype": DTYPES}
    minimums = {"size": 1, "multiplies": 1}
    quality_metrics = {"rel_error": "fraction"}

    def setup(self) -> None:
        self.reset(self.seed)

    def reset(self, seed: int) -> None:
        """Fresh random matrices from ``seed`` (drawn in float64 on the CPU, so every device sees the same)."""
        import torch

        generator = torch.Generator().manual_seed(seed)
        size, dtype = self.params["size"], getattr(torch, self.params["dtype"])
        self.reference = [torch.randn(size, size, generator=generator, dtype=torch.float64) for _ in range(2)]
        self.left, self.right = (matrix.to(device=self.device, dtype=dtype) for matrix in self.reference)
        self.product = torch.empty_like(self.left)

    def step(self) -> int:
        import torch

        for _ in range(self.params["multiplies"]):
            torch.matmul(self.left, self.right, out=self.product)
        return self.params["multiplies"]

    def evaluate(self) -> dict[str, float]:
        """Relative Frobenius error of the product against the float64 product."""
        import torch

        torch.matmul(self.left, self.right, out=self.product)
        exact = self.reference[0] @ self.reference[1]
        error = torch.linalg.matrix_norm(self.product.double().cpu() - exact) / torch.linalg.matrix_norm(
            exact
        )
        return {"rel_error": float(error)}

    def memory_bytes(self) -> int | None:
        """Host memory at the peak, in ``evaluate``: the two float64 references, the three matrices in
        ``dtype`` (on the CPU a float64 ``.to()`` keeps the references, so only the product is new), and the
        float64 exact product, product copy and difference. Measured within 10% for float32 at size 3000."""
        if not self.device.startswith("cpu"):
            return None  # the matrices live on the accelerator; host memory is not the limit there
        element = {"float32": 4, "float64": 8, "bfloat16": 2}[self.params["dtype"]]
        copies = 1 if self.params["dtype"] == "float64" else 3
        return (2 * 8 + copies * element + 3 * 8) * self.params["size"] ** 2

    def work_per_sample(self) -> dict[str, float]:
        """``2 n^3`` flop; the least memory traffic is reading both inputs and writing the product once."""
        import torch

        size = self.params["size"]
        item = torch.empty((), dtype=getattr(torch, self.params["dtype"])).element_size()
        return {"flop": 2.0 * size**3, "bytes": 3.0 * size**2 * item}
