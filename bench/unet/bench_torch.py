#!/usr/bin/env python3
"""PyTorch eager baseline for bench/unet: the same UNet2DModel architecture and weights.

diffusers is not available here, so this file builds UNet2DModel from its config.json with
plain torch modules named as diffusers names them (so the diffusers safetensors loads with
load_state_dict(strict=True)), checks its output against brisk's on the same input, and
times forward passes and training steps (forward + MSE + backward + Adam) on N threads.

Usage: bench_torch.py MODEL_DIR [--threads 2] [--batches 1,16,64] [--train-batch 64]
                      [--seconds 2] [--check DIR_WITH_x.npy_t.npy_out.npy] [--cpu1-batch B]
Prints one JSON object on the last line. Installs nothing: without torch it says how to
get it (apt-get install python3-torch) and exits with status 3.
"""
import json
import math
import struct
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print("PyTorch is not installed: apt-get install python3-torch (Debian), then run "
          "/usr/bin/python3 bench/unet/bench_torch.py", file=sys.stderr)
    sys.exit(3)


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    dt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b0, b1 = e["data_offsets"]
        t = torch.frombuffer(bytearray(raw[base + b0:base + b1]), dtype=dt[e["dtype"]])
        out[name] = t.reshape(e["shape"]).float()
    return out


class Resnet(nn.Module):  # diffusers ResnetBlock2D
    def __init__(self, cin, cout, temb, groups, eps, scale_shift, osf):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, 2 * cout if scale_shift else cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None
        self.scale_shift, self.osf = scale_shift, osf

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        t = self.time_emb_proj(F.silu(temb))[:, :, None, None]
        if self.scale_shift:
            s, b = t.chunk(2, dim=1)
            h = self.norm2(h) * (1 + s) + b
        else:
            h = self.norm2(h + t)
        h = self.conv2(F.silu(h))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / self.osf


class Attn(nn.Module):  # diffusers Attention as used by UNet2DModel
    def __init__(self, c, head_dim, groups, eps, rescale):
        super().__init__()
        self.heads = c // head_dim
        self.dh = head_dim
        inner = self.heads * head_dim
        self.group_norm = nn.GroupNorm(groups, c, eps=eps) if groups else None
        self.to_q, self.to_k, self.to_v = nn.Linear(c, inner), nn.Linear(c, inner), nn.Linear(c, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, c)])
        self.rescale = rescale

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.group_norm(x) if self.group_norm is not None else x
        h = h.reshape(B, C, H * W).transpose(1, 2)
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)

        def split(t):
            return t.reshape(B, H * W, self.heads, self.dh).permute(0, 2, 1, 3)

        q, k, v = split(q), split(k), split(v)
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), dim=-1)
        o = (p @ v).permute(0, 2, 1, 3).reshape(B, H * W, self.heads * self.dh)
        o = self.to_out[0](o).transpose(1, 2).reshape(B, C, H, W)
        return (o + x) / self.rescale


class Sampler(nn.Module):
    def __init__(self, c, down, pad):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2 if down else 1, padding=(pad if down else 1))
        self.down, self.pad = down, pad

    def forward(self, x):
        if self.down:
            if self.pad == 0:
                x = F.pad(x, (0, 1, 0, 1))
            return self.conv(x)
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    pass


class UNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        boc = c["block_out_channels"]
        L = c.get("layers_per_block", 2)
        G = c.get("norm_num_groups", 32)
        eps = c.get("norm_eps", 1e-5)
        hd = c.get("attention_head_dim", 8)
        ss = c.get("resnet_time_scale_shift", "default") == "scale_shift"
        D = c.get("time_embedding_dim") or 4 * boc[0]
        self.c0, self.flip, self.shift = boc[0], c.get("flip_sin_to_cos", True), c.get("freq_shift", 0)
        self.center = c.get("center_input_sample", False)
        self.conv_in = nn.Conv2d(c.get("in_channels", 3), boc[0], 3, padding=1)
        self.time_embedding = nn.Module()
        self.time_embedding.linear_1 = nn.Linear(boc[0], D)
        self.time_embedding.linear_2 = nn.Linear(D, D)
        self.down_blocks = nn.ModuleList()
        ch = boc[0]
        n = len(boc)
        for i, typ in enumerate(c["down_block_types"]):
            b = Block()
            b.resnets = nn.ModuleList()
            b.attentions = nn.ModuleList() if typ.endswith("AttnDownBlock2D") else None
            for j in range(L):
                b.resnets.append(Resnet(ch, boc[i], D, G, eps, ss, 1.0))
                ch = boc[i]
                if b.attentions is not None:
                    b.attentions.append(Attn(ch, hd or ch, G, eps, 1.0))
            b.downsamplers = nn.ModuleList([Sampler(ch, True, c.get("downsample_padding", 1))]) if i + 1 < n else None
            self.down_blocks.append(b)
        msf = c.get("mid_block_scale_factor", 1)
        self.mid_block = None
        if c.get("mid_block_type", "UNetMidBlock2D") is not None:
            m = Block()
            cm = boc[-1]
            m.resnets = nn.ModuleList([Resnet(cm, cm, D, G, eps, ss, msf), Resnet(cm, cm, D, G, eps, ss, msf)])
            ag = c.get("attn_norm_num_groups") or (G if not ss else None)
            m.attentions = nn.ModuleList([Attn(cm, hd or cm, ag, eps, msf)]) if c.get("add_attention", True) else None
            self.mid_block = m
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(boc))
        skip_ch = [boc[0]]
        for i in range(n):
            skip_ch += [boc[i]] * L
            if i + 1 < n:
                skip_ch.append(boc[i])
        for i, typ in enumerate(c["up_block_types"]):
            b = Block()
            b.resnets = nn.ModuleList()
            b.attentions = nn.ModuleList() if typ.endswith("AttnUpBlock2D") else None
            for j in range(L + 1):
                sc = skip_ch.pop()
                b.resnets.append(Resnet(ch + sc, rev[i], D, G, eps, ss, 1.0))
                ch = rev[i]
                if b.attentions is not None:
                    b.attentions.append(Attn(ch, hd or ch, G, eps, 1.0))
            b.upsamplers = nn.ModuleList([Sampler(ch, False, 1)]) if i + 1 < n else None
            self.up_blocks.append(b)
        self.conv_norm_out = nn.GroupNorm(G, boc[0], eps=eps)
        self.conv_out = nn.Conv2d(boc[0], c.get("out_channels", 3), 3, padding=1)

    def temb(self, t):  # diffusers get_timestep_embedding
        half = self.c0 // 2
        ex = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / (half - self.shift)
        e = t[:, None].float() * torch.exp(ex)[None, :]
        e = torch.cat([torch.sin(e), torch.cos(e)], dim=-1)
        if self.flip:
            e = torch.cat([e[:, half:], e[:, :half]], dim=-1)
        if self.c0 % 2:
            e = F.pad(e, (0, 1))
        return e

    def forward(self, x, t):
        if self.center:
            x = 2 * x - 1.0
        emb = self.time_embedding.linear_2(F.silu(self.time_embedding.linear_1(self.temb(t))))
        h = self.conv_in(x)
        skips = [h]
        for b in self.down_blocks:
            for j, r in enumerate(b.resnets):
                h = r(h, emb)
                if b.attentions is not None:
                    h = b.attentions[j](h)
                skips.append(h)
            if b.downsamplers is not None:
                h = b.downsamplers[0](h)
                skips.append(h)
        if self.mid_block is not None:
            h = self.mid_block.resnets[0](h, emb)
            if self.mid_block.attentions is not None:
                h = self.mid_block.attentions[0](h)
            h = self.mid_block.resnets[1](h, emb)
        for b in self.up_blocks:
            for j, r in enumerate(b.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), emb)
                if b.attentions is not None:
                    h = b.attentions[j](h)
            if b.upsamplers is not None:
                h = b.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def rate(fn, seconds, clock=time.perf_counter):
    fn()  # warm-up
    n, t0 = 0, clock()
    while True:
        fn()
        n += 1
        dt = clock() - t0
        if dt >= seconds and n >= 2:
            return n / dt


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    mdir = args[0]
    opt = {"--threads": "2", "--batches": "1,16,64", "--train-batch": "64", "--seconds": "2",
           "--check": "", "--cpu1-batch": ""}
    i = 1
    while i < len(args):
        opt[args[i]] = args[i + 1]
        i += 2
    nt = int(opt["--threads"])
    torch.set_num_threads(nt)
    cfg = json.load(open(mdir + "/config.json"))
    model = UNet(cfg)
    sd = load_safetensors(mdir + "/diffusion_pytorch_model.safetensors")
    model.load_state_dict(sd, strict=True)
    model.eval()
    res = {"torch": torch.__version__, "threads": nt, "mkldnn": torch.backends.mkldnn.is_available()}
    cin, hw = cfg.get("in_channels", 3), cfg.get("sample_size", 32)
    if opt["--check"]:
        import numpy as np
        d = opt["--check"]
        x = torch.from_numpy(np.load(d + "/x.npy"))
        t = torch.from_numpy(np.load(d + "/t.npy"))
        ref = torch.from_numpy(np.load(d + "/out.npy"))
        with torch.no_grad():
            out = model(x, t)
        res["max_abs_diff_vs_brisk"] = float((out - ref).abs().max())
    g = torch.Generator().manual_seed(0)
    for b in [int(v) for v in opt["--batches"].split(",")]:
        x = torch.randn(b, cin, hw, hw, generator=g)
        t = torch.randint(0, 1000, (b,), generator=g).float()
        with torch.no_grad():
            res["forward_ips_%d" % b] = b * rate(lambda: model(x, t), float(opt["--seconds"]))
    tb = int(opt["--train-batch"])
    model.train()
    adam = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(tb, cin, hw, hw, generator=g)
    t = torch.randint(0, 1000, (tb,), generator=g).float()
    y = torch.randn(tb, cfg.get("out_channels", 3), hw, hw, generator=g)

    def step():
        adam.zero_grad(set_to_none=True)
        loss = F.mse_loss(model(x, t), y)
        loss.backward()
        adam.step()

    res["train_sps_%d" % tb] = rate(step, float(opt["--seconds"]))

    # one thread, process CPU time: the cost per core, independent of other load
    if opt.get("--cpu1-batch"):
        torch.set_num_threads(1)
        b1 = int(opt["--cpu1-batch"])
        x1 = torch.randn(b1, cin, hw, hw, generator=g)
        t1 = torch.randint(0, 1000, (b1,), generator=g).float()
        model.eval()
        res["cpu1_forward_s_per_image"] = 1.0 / (b1 * rate(lambda: model(x1, t1), float(opt["--seconds"]),
                                                          clock=time.process_time))
        model.train()
        res["cpu1_train_s_per_step_%d" % tb] = 1.0 / rate(step, float(opt["--seconds"]), clock=time.process_time)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
