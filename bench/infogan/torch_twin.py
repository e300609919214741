"""PyTorch twin of disc's InfoGAN benchmark: experiments/structured_infogan.dis, same networks, terms and players.

Measures, on the CPU with a fixed number of threads:
  * training throughput (images/s, batch 64 of 64x64x1 dSprites-like images): one full InfoGAN step,
    that is the discriminator player's update (a generated batch, the critic on the real and on the
    generated batch, the non-saturating GAN loss + 0.05 * information term + 0.4 * linear-Gaussian
    structural term, backward, Adam) followed by the generator player's update (a fresh generated batch,
    its side of the GAN loss and the same two terms, backward through the critic, Adam);
  * generator inference throughput (images/s): sigmoid(G(noise, codes)), no gradients.

The model is the plan of job 0 (`disc plan experiments/structured_infogan.dis`), written out by hand:
  generator      [z(5) ++ one-hot shape(3) ++ c1 ++ c2 ++ c3] -> dense 1024 -> dense 4*4*64 -> reshape
                 (4, 4, 64) in (H, W, C) order -> 4 transposed convolutions 4x4 stride 2 ("same") -> logits,
                 images are their sigmoid;
  trunk          4 convolutions 4x4 stride 2 ("same") with leaky ReLU 0.2, flatten in (H, W, C) order,
                 dense 256 + leaky ReLU 0.2;
  heads          adversarial dense(1); recognition dense 128 + leaky ReLU 0.2, dense 6 (3 logits for
                 `shape`, then the means of c1, c2, c3: fixed unit variance).
Kernels Glorot-uniform, biases zero. Adam per player with the plan's settings. The parameter counts are
asserted against the constants below and, with --expect, against the counts disc printed from its plan.
Prints one JSON object on the last line so that run.sh can read it.
"""

import argparse
import json
import math
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tf1_adam import Tf1Adam  # noqa: E402  (bench/tf1_adam.py: disc's Adam, for the parity check)

LOG_2PI = math.log(2 * math.pi)

# experiments/structured_infogan.dis, job 0, as `disc plan` lowers it.
NOISE = 5
CATEGORIES = 3  # shape: categorical(3)
CONTINUOUS = ("c1", "c2", "c3")  # uniform(-1, 1) each
INPUT_WIDTH = NOISE + CATEGORIES + len(CONTINUOUS)  # 11
HEAD_WIDTH = CATEGORIES + len(CONTINUOUS)  # 6: no learned variance
# graph { c1 -> c3; c2 -> c3 }: one linear-Gaussian node per continuous code of the graph, whose
# inputs are the sampled code itself, then its parents' sampled codes (compiler/src/players.rs).
NODES = (("c1", ("c1",)), ("c2", ("c2",)), ("c3", ("c3", "c1", "c2")))
INFO_WEIGHT, STRUCTURE_WEIGHT = 0.05, 0.4  # loss = gan + 0.05 * info + 0.4 * structure(...)
# Players in plan order. discriminator: the infogan default optimizer, adam(2e-4, 0.5, 0.999, 1e-8);
# generator: the training optimizer, adam(lr: 1e-3, betas: (0.5, 0.999)), epsilon 1e-8. Constant rate.
DISCRIMINATOR_ADAM = dict(lr=2e-4, betas=(0.5, 0.999), eps=1e-8)
GENERATOR_ADAM = dict(lr=1e-3, betas=(0.5, 0.999), eps=1e-8)

# runtime/src/structural.rs: VARIANCE_FLOOR and the relative ridge of the normal equations.
VARIANCE_FLOOR = 1e-6
RIDGE = 1e-10

# The plan's parameter counts for one channel (generator, trunk, adversarial head, recognition head).
PARAMETERS = {
    "generator": 1_177_217,
    "discriminator": 377_792,
    "adversarial_head": 257,
    "recognition_head": 33_670,
}


class Generator(nn.Module):
    """infogan_generator (stdlib/arch.dis): dense 1024, dense 1024, 4 transposed convolutions."""

    def __init__(self, channels: int):
        super().__init__()
        self.d1 = nn.Linear(INPUT_WIDTH, 1024)
        self.d2 = nn.Linear(1024, 4 * 4 * 64)
        # "same" padding for kernel 4, stride 2: out = 2 * in, which is padding 1 here.
        self.t1 = nn.ConvTranspose2d(64, 64, 4, stride=2, padding=1)
        self.t2 = nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1)
        self.t3 = nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1)
        self.t4 = nn.ConvTranspose2d(32, channels, 4, stride=2, padding=1)

    def forward(self, inputs):
        """Image logits (B, C, 64, 64) of generator inputs (B, INPUT_WIDTH)."""
        h = F.relu(self.d1(inputs))
        h = F.relu(self.d2(h))
        # Reshape to (4, 4, 64) in (H, W, C) order, as disc (NHWC inside a network), then NCHW.
        h = h.reshape(inputs.shape[0], 4, 4, 64).permute(0, 3, 1, 2)
        h = F.relu(self.t1(h))
        h = F.relu(self.t2(h))
        h = F.relu(self.t3(h))
        return self.t4(h)


class Critic(nn.Module):
    """infogan_discriminator (stdlib/arch.dis) with the heads the compiler adds to it."""

    def __init__(self, channels: int):
        super().__init__()
        # "same" padding for kernel 4, stride 2 on an even size: one pixel each side.
        self.c1 = nn.Conv2d(channels, 32, 4, stride=2, padding=1)
        self.c2 = nn.Conv2d(32, 32, 4, stride=2, padding=1)
        self.c3 = nn.Conv2d(32, 64, 4, stride=2, padding=1)
        self.c4 = nn.Conv2d(64, 64, 4, stride=2, padding=1)
        self.dense = nn.Linear(4 * 4 * 64, 256)
        self.adversarial = nn.Linear(256, 1)
        self.q1 = nn.Linear(256, 128)
        self.q2 = nn.Linear(128, HEAD_WIDTH)

    def trunk_modules(self):
        return [self.c1, self.c2, self.c3, self.c4, self.dense]

    def forward(self, images):
        """(real/fake logits (B, 1), recognition output (B, HEAD_WIDTH)) of images (B, C, 64, 64)."""
        h = F.leaky_relu(self.c1(images), 0.2)
        h = F.leaky_relu(self.c2(h), 0.2)
        h = F.leaky_relu(self.c3(h), 0.2)
        h = F.leaky_relu(self.c4(h), 0.2)  # (B, 64, 4, 4)
        # Flatten in (H, W, C) order, as disc and the reference (NHWC) do.
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
        features = F.leaky_relu(self.dense(h), 0.2)
        recognised = self.q2(F.leaky_relu(self.q1(features), 0.2))
        return self.adversarial(features), recognised


def glorot_zero_(module: nn.Module):
    """Glorot-uniform kernels, zero biases, as disc builds every layer (runtime/src/model.rs)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def count(modules):
    return sum(parameter.numel() for module in modules for parameter in module.parameters())


def parameter_counts(generator, critic):
    return {
        "generator": count([generator]),
        "discriminator": count(critic.trunk_modules()),
        "adversarial_head": count([critic.adversarial]),
        "recognition_head": count([critic.q1, critic.q2]),
    }


def draw_inputs(batch, generator=None):
    """Generator inputs (batch, INPUT_WIDTH): noise N(0, I), a one-hot uniform class, codes U(-1, 1)."""
    noise = torch.randn(batch, NOISE, generator=generator)
    classes = torch.randint(0, CATEGORIES, (batch,), generator=generator)
    continuous = torch.rand(batch, len(CONTINUOUS), generator=generator) * 2 - 1
    return torch.cat([noise, F.one_hot(classes, CATEGORIES).float(), continuous], dim=1)


def sampled_codes(inputs):
    """The codes a generator input row was drawn with: (class index (B,), {name: value (B, 1)})."""
    classes = inputs[:, NOISE:NOISE + CATEGORIES].argmax(dim=1)
    start = NOISE + CATEGORIES
    return classes, {name: inputs[:, start + i:start + i + 1] for i, name in enumerate(CONTINUOUS)}


def information_loss(recognised, classes, codes):
    """-E[log Q(c | x)] summed over the codes: categorical cross-entropy + unit-variance Gaussian NLL."""
    n = recognised.shape[0]
    one_hot = F.one_hot(classes, CATEGORIES).to(recognised.dtype)
    total = -(F.log_softmax(recognised[:, :CATEGORIES], dim=1) * one_hot).sum() / n
    for i, name in enumerate(CONTINUOUS):
        mean = recognised[:, CATEGORIES + i:CATEGORIES + i + 1]
        total = total + 0.5 * ((codes[name] - mean).square() + LOG_2PI).mean()
    return total


def least_squares(inputs, target):
    """(w, b) minimising sum (target - inputs @ w - b)^2, solved in float64 on detached values with the
    runtime's relative ridge on the normal equations' diagonal."""
    a = torch.cat([inputs.detach().double(), torch.ones(inputs.shape[0], 1, dtype=torch.float64)], dim=1)
    y = target.detach().double()
    gram = a.T @ a
    scale = max(float(gram.diagonal().mean()), 1.0)
    gram = gram + RIDGE * scale * torch.eye(gram.shape[0], dtype=torch.float64)
    solution = torch.linalg.solve(gram, a.T @ y)  # (p + 1, 1)
    return solution[:-1].float(), float(solution[-1])


def gaussian_nll(squared_mean):
    """NLL of a Gaussian with variance `squared_mean` (+ the floor), at its own fit: 1/2 ln(2 pi v) + 1/2."""
    return 0.5 * (torch.log(squared_mean + VARIANCE_FLOOR) + LOG_2PI) + 0.5


def structural_loss(recognised, codes):
    """The linear-Gaussian structural term (runtime/src/structural.rs): per node, the NLL of the recognised
    code under its least-squares fit on its inputs minus the NLL under the parentless Gaussian, that is
    1/2 ln((residual variance + 1e-6) / (variance + 1e-6)); summed over the nodes. The estimates are
    constants of the step; the gradient flows through the residual and the target's variance."""
    total = 0.0
    for name, input_names in NODES:
        column = CATEGORIES + CONTINUOUS.index(name)
        target = recognised[:, column:column + 1]
        inputs = torch.cat([codes[i] for i in input_names], dim=1)
        weights, intercept = least_squares(inputs, target)
        residual = target - (intercept + inputs @ weights)
        conditional = gaussian_nll(residual.square().mean())
        marginal = gaussian_nll((target - target.mean()).square().mean())
        total = total + (conditional - marginal)
    return total


class InfoGan:
    """The two players and their optimizers, updated in plan order: discriminator, then generator."""

    def __init__(self, channels: int, adam=torch.optim.Adam):
        self.generator = Generator(channels)
        self.critic = Critic(channels)
        self.d_optimizer = adam(self.critic.parameters(), **DISCRIMINATOR_ADAM)
        self.g_optimizer = adam(self.generator.parameters(), **GENERATOR_ADAM)

    def terms(self, recognised, inputs):
        classes, codes = sampled_codes(inputs)
        return information_loss(recognised, classes, codes), structural_loss(recognised, codes)

    def step(self, real, d_inputs, g_inputs):
        """One training step; returns every term's value as disc logs them."""
        # discriminator: its side of the GAN loss on the real and a generated (detached) batch.
        fake = torch.sigmoid(self.generator(d_inputs)).detach()
        real_logits, _ = self.critic(real)
        fake_logits, recognised = self.critic(fake)
        adversarial = -F.logsigmoid(real_logits).mean() - F.logsigmoid(-fake_logits).mean()
        info, structure = self.terms(recognised, d_inputs)
        d_loss = adversarial + INFO_WEIGHT * info + STRUCTURE_WEIGHT * structure
        values = {"discriminator/adversarial": adversarial, "discriminator/mutual_information": info,
                  "discriminator/structural": structure, "discriminator/loss": d_loss}
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()

        # generator: the non-saturating side, through the updated critic (whose gradients are computed
        # and dropped, as in disc).
        fake = torch.sigmoid(self.generator(g_inputs))
        fake_logits, recognised = self.critic(fake)
        adversarial = -F.logsigmoid(fake_logits).mean()
        info, structure = self.terms(recognised, g_inputs)
        g_loss = adversarial + INFO_WEIGHT * info + STRUCTURE_WEIGHT * structure
        values |= {"generator/adversarial": adversarial, "generator/mutual_information": info,
                   "generator/structural": structure, "generator/loss": g_loss}
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        # disc reads every term back to check it is finite; so does the twin.
        return {name: float(value.detach()) for name, value in values.items()}


def sprite_batches(pool, batch, channels, generator):
    """`pool` batches of dSprites-like images: one white axis-aligned square per image, side 6-19 px, at a
    random position on a black 64x64 canvas (about the ink of dSprites). The values do not change the
    work of dense kernels; they keep the GAN's statistics plausible."""
    batches = []
    for _ in range(pool):
        images = torch.zeros(batch, channels, 64, 64)
        sides = torch.randint(6, 20, (batch,), generator=generator)
        for i, side in enumerate(sides.tolist()):
            top, left = torch.randint(0, 64 - side, (2,), generator=generator).tolist()
            images[i, :, top:top + side, left:left + side] = 1.0
        batches.append(images)
    return batches


def median_rate(windows, window_seconds, call):
    """Calls per second of the median of `windows` windows of `window_seconds` (>= 2 calls each).

    The same scheme as runtime/examples/bench_infogan.rs, so one slow window (another process on the
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


# disc's parameter names (runtime/src/model.rs, Net::named_weights) -> (module, layer) of this twin.
PARITY_LAYERS = {
    "generator/dense0": ("generator", "d1"), "generator/dense1": ("generator", "d2"),
    "generator/deconv0": ("generator", "t1"), "generator/deconv1": ("generator", "t2"),
    "generator/deconv2": ("generator", "t3"), "generator/deconv3": ("generator", "t4"),
    "discriminator/conv0": ("critic", "c1"), "discriminator/conv1": ("critic", "c2"),
    "discriminator/conv2": ("critic", "c3"), "discriminator/conv3": ("critic", "c4"),
    "discriminator/dense0": ("critic", "dense"), "adversarial_head/dense0": ("critic", "adversarial"),
    "recognition_head/dense0": ("critic", "q1"), "recognition_head/dense1": ("critic", "q2"),
}


def compare_first_update(after_disc, initial):
    """Prints, per weight, how disc's first update (its weights after step 0) and the twin's differ:
    the largest difference of the updated values, and how many entries moved by more than half the
    discriminator's learning rate apart (TF1 Adam's first step moves each entry by about the learning
    rate, so such an entry was pushed in the opposite direction, or not at all, on one side)."""
    lr = DISCRIMINATOR_ADAM["lr"]
    rows = []
    for name, parameter, theirs in after_disc:
        ours = parameter.detach()
        step_ours, step_theirs = ours - initial[name], theirs - initial[name]
        apart = int(((step_ours - step_theirs).abs() > lr / 2).sum())
        rows.append((apart, float((ours - theirs).abs().max()), name, ours.numel()))
    print("first update, weight by weight (entries moved apart by > lr/2, largest |difference|):")
    for apart, largest, name, size in sorted(rows, reverse=True):
        print(f"  {name:<40} {apart:>7} of {size:<8} {largest:.3e}")


def parity(directory, tolerance):
    """Retraces the steps disc wrote with `bench_infogan --parity DIR`: same initial weights, real batches
    and generator inputs; prints the largest relative difference of the logged terms and fails above
    `tolerance`."""
    import numpy as np

    def floats(name):
        return torch.from_numpy(np.fromfile(os.path.join(directory, name), dtype="<f4"))

    meta = json.load(open(os.path.join(directory, "disc.json")))
    steps, batch, pool_size = meta["steps"], meta["batch"], meta["pool"]
    height, width, channels = meta["shape"]
    assert meta["input_width"] == INPUT_WIDTH, meta["input_width"]
    model = InfoGan(channels, adam=Tf1Adam)

    def disc_weights(stem):
        """(name, PyTorch parameter of the twin, disc's values in PyTorch's layout) per weight."""
        weights = floats(f"{stem}.f32")
        for entry in json.load(open(os.path.join(directory, f"{stem}.json"))):
            layer, kind = entry["name"].rsplit("/", 1)
            owner, attribute = PARITY_LAYERS[layer]
            module = getattr(getattr(model, owner), attribute)
            shape = entry["shape"]
            values = weights[entry["offset"]: entry["offset"] + math.prod(shape)].reshape(shape)
            if kind == "bias":
                yield entry["name"], module.bias, values
            elif isinstance(module, nn.Linear):
                yield entry["name"], module.weight, values.t()  # burn's Linear weight is [in, out]
            else:
                yield entry["name"], module.weight, values  # conv [out, in, k, k], transposed [in, out, k, k]

    loaded = set()
    with torch.no_grad():
        for name, parameter, values in disc_weights("weights"):
            parameter.copy_(values)
            loaded.add(name)
    assert len(loaded) == 2 * len(PARITY_LAYERS), sorted(loaded)
    initial = {name: values.clone() for name, _, values in disc_weights("weights")}
    # NHWC as disc renders them -> NCHW.
    pool = floats("batches.f32").reshape(pool_size, batch, height, width, channels).permute(0, 1, 4, 2, 3)
    inputs = floats("inputs.f32").reshape(steps, 2, batch, INPUT_WIDTH)
    worst, worst_name = 0.0, None
    for step in range(steps):
        values = model.step(pool[step % pool_size], inputs[step, 0], inputs[step, 1])
        if step == 0 and os.path.exists(os.path.join(directory, "weights_after_step_0.f32")):
            compare_first_update(disc_weights("weights_after_step_0"), initial)
        step_worst, step_name = 0.0, None
        for name, theirs in meta["terms"][step].items():
            difference = abs(values[name] - theirs) / max(abs(theirs), 1.0)
            if difference > step_worst:
                step_worst, step_name = difference, name
            if difference > worst:
                worst, worst_name = difference, f"{name} at step {step}"
        print(f"step {step}: largest relative difference {step_worst:.2e} ({step_name})")
    first, last = meta["terms"][0], meta["terms"][-1]
    print(f"parity over {steps} steps: disc generator loss {first['generator/loss']:.4f} -> "
          f"{last['generator/loss']:.4f}, pytorch {values['generator/loss']:.4f} at the end; largest "
          f"relative difference {worst:.2e} ({worst_name}; tolerance {tolerance:.0e})")
    if not worst <= tolerance:
        raise SystemExit("parity: disc and the PyTorch twin computed different losses")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3, help="untimed training steps first")
    parser.add_argument("--seconds", type=float, default=20.0, help="time budget per measurement")
    parser.add_argument("--windows", type=int, default=5, help="timed windows; the median is reported")
    parser.add_argument("--expect", help="disc's benchmark output; its parameter counts must equal ours")
    parser.add_argument("--parity", help="retrace `bench_infogan --parity DIR` instead of timing")
    parser.add_argument("--parity-tolerance", type=float, default=1e-4)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    if args.parity:
        parity(args.parity, args.parity_tolerance)
        return
    torch.manual_seed(0)
    channels = 1
    model = InfoGan(channels)
    glorot_zero_(model.generator)
    glorot_zero_(model.critic)
    counts = parameter_counts(model.generator, model.critic)
    assert counts == PARAMETERS, counts
    if args.expect:
        with open(args.expect) as file:
            theirs = json.loads(file.read().strip().splitlines()[-1])["parameters"]
        assert counts == theirs, f"parameter counts differ: pytorch {counts}, disc {theirs}"

    # Real batches are made before timing, as on disc's side; the noise and codes are drawn inside the
    # step, as disc's step draws them.
    rng = torch.Generator().manual_seed(0)
    pool = sprite_batches(8, args.batch, channels, rng)
    state = {"steps": 0, "values": None}

    def train_step():
        real = pool[state["steps"] % len(pool)]
        state["values"] = model.step(real, draw_inputs(args.batch), draw_inputs(args.batch))
        state["steps"] += 1

    for _ in range(args.warmup):
        train_step()
    window = args.seconds / args.windows
    train_rate = median_rate(args.windows, window, train_step) * args.batch
    steps, final_loss = state["steps"], state["values"]["generator/loss"]

    inputs = draw_inputs(args.batch)
    with torch.inference_mode():
        def render():
            torch.sigmoid(model.generator(inputs))

        for _ in range(args.warmup):
            render()
        infer_rate = median_rate(args.windows, window / 2, render) * args.batch

    print(
        f"pytorch {torch.__version__}: train {train_rate:.1f} img/s ({steps} steps, last generator loss "
        f"{final_loss:.3f}; median of {args.windows} windows); generator inference {infer_rate:.1f} img/s "
        f"(batch {args.batch}); parameters {counts}"
    )
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "threads": args.threads,
        "batch": args.batch,
        "train_images_per_second": train_rate,
        "inference_images_per_second": infer_rate,
        "parameters": counts,
    }))


if __name__ == "__main__":
    main()
