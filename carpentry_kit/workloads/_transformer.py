"""A small decoder-only transformer (GPT-style) with a key/value cache, for the ``tiny-lm`` workload.

Pre-norm blocks of causal multi-head self-attention and a 4x MLP, learned position embeddings, tied input
and output embeddings. ``forward(tokens, cache)`` appends this call's keys and values to ``cache`` (a list,
one ``(k, v)`` per layer) so generation can feed one new token at a time instead of the whole context.
torch is imported here only: the registry reads ``tiny_lm``'s metadata without it.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None):
        batch, length, width = x.shape
        q, k, v = self.qkv(self.norm1(x)).split(width, dim=2)
        q, k, v = (t.view(batch, length, self.heads, width // self.heads).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        # causal within this call; every cached position is earlier, so it is always visible
        attention = F.scaled_dot_product_attention(q, k, v, is_causal=past is None and length > 1)
        x = x + self.proj(attention.transpose(1, 2).reshape(batch, length, width))
        return x + self.mlp(self.norm2(x)), (k, v)


class TinyGPT(nn.Module):
    def __init__(self, vocabulary: int, context: int, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocabulary, width)
        self.position = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.norm = nn.LayerNorm(width)
        self.apply(_init)

    def forward(self, tokens: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        """Logits for every position of ``tokens``; with ``cache``, positions continue after the cached ones."""
        start = cache[0][0].shape[2] if cache else 0
        positions = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        x = self.embed(tokens) + self.position(positions)
        for index, block in enumerate(self.blocks):
            past = cache[index] if cache is not None and index < len(cache) else None
            x, kv = block(x, past)
            if cache is not None:
                if len(cache) > index:
                    cache[index] = kv
                else:
                    cache.append(kv)
        return self.norm(x) @ self.embed.weight.T

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _init(module: nn.Module) -> None:
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def train(model: TinyGPT, sequences: torch.Tensor, steps: int, batch: int, rate: float, seed: int) -> float:
    """Next-token training with AdamW; returns the last batch's loss."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=rate, weight_decay=0.0, foreach=False)
    model.train()
    loss = torch.tensor(math.nan)
    for _ in range(steps):
        rows = torch.randint(0, len(sequences), (batch,), generator=generator)
        chunk = sequences[rows]
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), chunk[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    return float(loss.detach())


@torch.no_grad()
def sequence_nll(model: TinyGPT, sequences: torch.Tensor, skip: int = 0) -> torch.Tensor:
    """Each sequence's mean next-token cross-entropy (nats per token), ignoring the first ``skip`` targets."""
    logits = model(sequences[:, :-1])[:, skip:]
    targets = sequences[:, 1 + skip :]
    losses = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    return losses.mean(dim=1)
