"""PyTorch twin of disc's training benchmark: the reference beta-VAE, same layers, loss and optimizer.

Measures, on the CPU with a fixed number of threads:
  * training throughput (images/s): forward, bernoulli-logits reconstruction + beta * KL, backward,
    Adam step, batch 64 of 64x64x1 binary images;
  * encoder inference throughput (images/s): the encoder's mean and log-variance, no gradients.

The model follows reference section 2 exactly (conv_encoder + deconv_decoder, NHWC flatten order) and
the parameter counts are checked against it (309,204 and 381,313 for one channel, 10 latents).
Prints one JSON object on the last line so that run.sh can read it.
"""

import argparse
import json
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tf1_adam import Tf1Adam  # noqa: E402  (bench/tf1_adam.py: disc's Adam, for the parity check)


class Encoder(nn.Module):
    """conv_encoder: 4 strided convolutions, dense 256, two linear heads (reference 2.1)."""

    def __init__(self, channels: int, latents: int):
        super().__init__()
        self.e1 = nn.Conv2d(channels, 32, 4, stride=2, padding=1)
        self.e2 = nn.Conv2d(32, 32, 4, stride=2, padding=1)
        self.e3 = nn.Conv2d(32, 64, 2, stride=2, padding=0)
        self.e4 = nn.Conv2d(64, 64, 2, stride=2, padding=0)
        self.e5 = nn.Linear(1024, 256)
        self.means = nn.Linear(256, latents)
        self.log_var = nn.Linear(256, latents)

    def forward(self, x):
        # x: (B, C, 64, 64)
        h = F.relu(self.e1(x))
        h = F.relu(self.e2(h))
        h = F.relu(self.e3(h))
        h = F.relu(self.e4(h))  # (B, 64, 4, 4)
        # Flatten in (H, W, C) order, as the reference (TensorFlow, NHWC) does.
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        h = F.relu(self.e5(h))
        return self.means(h), self.log_var(h)


class Decoder(nn.Module):
    """deconv_decoder: dense 256, dense 1024, 4 transposed convolutions (reference 2.2)."""

    def __init__(self, channels: int, latents: int):
        super().__init__()
        self.d1 = nn.Linear(latents, 256)
        self.d2 = nn.Linear(256, 1024)
        self.d3 = nn.ConvTranspose2d(64, 64, 4, stride=2, padding=1)
        self.d4 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        self.d5 = nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1)
        self.d6 = nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.d1(z))
        h = F.relu(self.d2(h))
        # Reshape to (4, 4, 64) in (H, W, C) order, then to NCHW for the convolutions.
        h = h.reshape(z.shape[0], 4, 4, 64).permute(0, 3, 1, 2)
        h = F.relu(self.d3(h))
        h = F.relu(self.d4(h))
        h = F.relu(self.d5(h))
        return self.d6(h)  # logits (B, C, 64, 64)


def glorot_zero_(module: nn.Module):
    """TF1 tf.layers defaults: Glorot-uniform kernels, zero biases (reference 1.7)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def loss_fn(encoder, decoder, x, beta, epsilon=None):
    mean, log_var = encoder(x)
    if epsilon is None:
        epsilon = torch.randn_like(mean)
    z = mean + torch.exp(log_var / 2) * epsilon
    logits = decoder(z)
    # Sum of sigmoid cross-entropy over pixels, mean over the batch (reference 1.1).
    reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = (0.5 * (mean.square() + log_var.exp() - log_var - 1).sum(1)).mean()
    return reconstruction + beta * kl


def count(module):
    return sum(parameter.numel() for parameter in module.parameters())


def median_rate(windows, window_seconds, call):
    """Calls per second of the median of `windows` windows of `window_seconds` (>= 2 calls each).

    The same scheme as runtime/examples/bench_train.rs, so one slow window (another process on the
    machine) does not move either figure.
    """
    rates = []
    for _ in range(windows):
        calls, start = 0, time.perf_counter()
        while calls < 2 or time.perf_counter() - start < window_seconds:
            call()
            calls += 1
        rates.append(calls / (time.perf_counter() - start))
    return sorted(rates)[len(rates) // 2]


# disc's parameter names (runtime/src/model.rs, Net::named_weights) → this twin's layers.
PARITY_LAYERS = {
    "encoder/conv0": "e1", "encoder/conv1": "e2", "encoder/conv2": "e3", "encoder/conv3": "e4",
    "encoder/dense0": "e5", "encoder/dense1": "means", "encoder/dense2": "log_var",
    "decoder/dense0": "d1", "decoder/dense1": "d2", "decoder/deconv0": "d3",
    "decoder/deconv1": "d4", "decoder/deconv2": "d5", "decoder/deconv3": "d6",
}


def parity(directory, tolerance):
    """Retraces the steps disc wrote with `bench_train --parity DIR`: same initial weights, batches
    and noise; prints the largest relative difference of the losses and fails above `tolerance`."""
    import numpy as np

    def floats(name):
        return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype="<f4"))

    meta = json.load(open(os.path.join(directory, "disc.json")))
    steps, batch, latents, channels = meta["steps"], meta["batch"], meta["latents"], meta["channels"]
    encoder, decoder = Encoder(channels, latents), Decoder(channels, latents)
    weights = floats("weights.f32")
    modules = dict(encoder.named_children()) | dict(decoder.named_children())
    with torch.no_grad():
        for entry in json.load(open(os.path.join(directory, "weights.json"))):
            layer, kind = entry["name"].rsplit("/", 1)
            shape = entry["shape"]
            size = 1
            for dim in shape:
                size *= dim
            values = weights[entry["offset"]: entry["offset"] + size].reshape(shape)
            module = modules[PARITY_LAYERS[layer]]
            if kind == "bias":
                module.bias.copy_(values)
            elif isinstance(module, nn.Linear):
                module.weight.copy_(values.t())  # burn's Linear weight is [in, out]
            else:
                module.weight.copy_(values)  # conv [out, in, k, k], transposed conv [in, out, k, k]
    pool = floats("batches.f32").reshape(meta["pool"], batch, channels, 64, 64)
    noise = floats("noise.f32").reshape(steps, batch, latents)
    optimizer = Tf1Adam(
        list(encoder.parameters()) + list(decoder.parameters()), lr=5e-4, betas=(0.9, 0.999), eps=1e-8
    )
    losses = []
    for step in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(encoder, decoder, pool[step % meta["pool"]], beta=4.0, epsilon=noise[step])
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    worst = max(abs(a - b) / max(abs(b), 1.0) for a, b in zip(meta["losses"], losses))
    print(f"parity over {steps} steps: disc loss {meta['losses'][0]:.4f} → {meta['losses'][-1]:.4f}, "
          f"pytorch {losses[0]:.4f} → {losses[-1]:.4f}; largest relative difference {worst:.2e} "
          f"(tolerance {tolerance:.0e})")
    if not worst <= tolerance:
        raise SystemExit("parity: disc and the PyTorch twin computed different losses")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=5, help="untimed training steps first")
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per measurement")
    parser.add_argument("--inference-batch", type=int, default=64)
    parser.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported")
    parser.add_argument("--parity", help="retrace `bench_train --parity DIR` instead of timing")
    parser.add_argument("--parity-tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.parity:
        parity(args.parity, args.parity_tolerance)
        return
    torch.manual_seed(0)
    channels, latents = 1, 10
    encoder, decoder = Encoder(channels, latents), Decoder(channels, latents)
    glorot_zero_(encoder)
    glorot_zero_(decoder)
    assert count(encoder) == 309_204, count(encoder)
    assert count(decoder) == 381_313, count(decoder)
    parameters = list(encoder.parameters()) + list(decoder.parameters())
    optimizer = torch.optim.Adam(parameters, lr=5e-4, betas=(0.9, 0.999), eps=1e-8)  # quickstart.dis: adam(lr: 5e-4)

    # A pool of binary batches made before timing, so data generation is not measured.
    pool = [(torch.rand(args.batch, channels, 64, 64) < 0.3).float() for _ in range(8)]

    def train_step(step):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(encoder, decoder, pool[step % len(pool)], beta=4.0)  # quickstart.dis: beta_vae(beta: 4)
        loss.backward()
        optimizer.step()
        return loss

    for step in range(args.warmup):
        train_step(step)
    state = {"steps": 0, "loss": None}

    def timed_step():
        state["loss"] = train_step(state["steps"])
        state["steps"] += 1

    window = args.seconds / args.windows
    train_rate = median_rate(args.windows, window, timed_step) * args.batch
    steps, final_loss = state["steps"], float(state["loss"].detach())

    batch = pool[0][: args.inference_batch]
    if batch.shape[0] < args.inference_batch:
        batch = (torch.rand(args.inference_batch, channels, 64, 64) < 0.3).float()
    with torch.inference_mode():
        for _ in range(5):
            encoder(batch)
        infer_rate = median_rate(args.windows, window / 2, lambda: encoder(batch)) * args.inference_batch

    print(
        f"pytorch {torch.__version__}: train {train_rate:.1f} img/s ({steps} steps, "
        f"loss {final_loss:.1f}; median of {args.windows} windows); encoder inference {infer_rate:.1f} img/s (batch {args.inference_batch})"
    )
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "threads": args.threads,
        "batch": args.batch,
        "train_images_per_second": train_rate,
        "inference_images_per_second": infer_rate,
    }))


if __name__ == "__main__":
    main()
