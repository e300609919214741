"""Adam as TensorFlow 1 computes it, which is what disc's plan means by `adam(...)` (reference §1.7):

    m <- b1*m + (1-b1)*g      v <- b2*v + (1-b2)*g^2
    lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)      theta <- theta - lr_t * m / (sqrt(v) + eps)

torch.optim.Adam divides by sqrt(v / (1 - b2^t)) + eps instead: the same as TF1 with eps scaled by
1/sqrt(1 - b2^t), about 32x larger at step 1 with b2 = 0.999. The twins time torch.optim.Adam (what a
PyTorch user runs); their parity checks use this class, since there the arithmetic must be disc's.
"""

import math

import torch


class Tf1Adam(torch.optim.Optimizer):
    def __init__(self, params, lr, betas, eps):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["t"], state["m"], state["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                state["t"] += 1
                t = state["t"]
                state["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                state["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                rate = group["lr"] * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p.addcdiv_(state["m"], state["v"].sqrt().add_(group["eps"]), value=-rate)
