"""Replicas of the paper-scale models, small enough for a CPU: a SigLIP2 checkpoint with the
published architecture's configuration where the code depends on it (1152-d embeddings, 384 px
input, 16 px patches) and its image processor, the released heads in their published file layout
(40 + 4 ``model_<snake>_best.pth`` state dicts, Large layer widths), and a tiny FLUX pipeline
saved as diffusers saves one. Weights are random and seeded: the rehearsal proves that the code
paths run, not what the models say. ``docs/rehearsal.md`` lists where each replica differs from
the real artefact.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from emonet.data import demographics, loaders, taxonomy
from emonet.generation import prompts
from emonet.model.released import ReleasedHead

#: The published vision configuration of ``google/siglip2-so400m-patch16-384`` that the code
#: depends on (embedding width, input size, patch grid, heads), and what the replica shrinks.
SIGLIP_VISION = {
    "hidden_size": 1152,
    "image_size": 384,
    "patch_size": 16,
    "num_attention_heads": 16,
}
SIGLIP_SHRUNK = {"num_hidden_layers": (27, 1), "intermediate_size": (4304, 128)}


def write_siglip(folder: Path, seed: int) -> None:
    """A ``SiglipModel`` (the class the fixed-resolution SigLIP2 checkpoint loads as) with the
    published vision configuration (:data:`SIGLIP_VISION`), one layer and a narrow MLP
    (:data:`SIGLIP_SHRUNK`), a minimal text tower, random seeded weights; saved with its
    ``SiglipImageProcessor`` configuration for 384 px input (mean and SD 0.5)."""
    from transformers import SiglipConfig, SiglipModel
    from transformers.models.siglip import SiglipImageProcessorPil

    vision = {**SIGLIP_VISION, **{k: v[1] for k, v in SIGLIP_SHRUNK.items()}}
    text = {
        "vocab_size": 64,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "max_position_embeddings": 64,
        "projection_size": 1152,
        "pad_token_id": 1,
        "bos_token_id": 2,
        "eos_token_id": 3,
    }
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = SiglipModel(SiglipConfig(vision_config=vision, text_config=text))
    model.save_pretrained(folder)
    size = SIGLIP_VISION["image_size"]
    SiglipImageProcessorPil(
        size={"height": size, "width": size}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    ).save_pretrained(folder)


def write_released_heads(folder: Path, seed: int, shape: str = "large") -> int:
    """The 44 released head files (40 categories + 4 extra dimensions) as state dicts of the
    authors' layout (an ``nn.Sequential`` under ``layers``, Large: 1152 -> 1024 -> 512 -> 256 ->
    1), random seeded weights whose outputs sit inside the 0-7 scale. Returns the file count."""
    folder.mkdir(parents=True, exist_ok=True)
    names = (*taxonomy.EMOTIONS, *taxonomy.EXTRA_DIMENSIONS)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for name in names:
            head = ReleasedHead(shape, SIGLIP_VISION["hidden_size"])
            with torch.no_grad():
                head.layers[-1].bias.uniform_(1.0, 3.0)
            torch.save(head.state_dict(), folder / f"{taxonomy.head_name(name)}.pth")
    return len(names)


def write_tiny_flux(folder: Path, seed: int, words) -> None:
    """A ``FluxPipeline`` (the class of ``black-forest-labs/FLUX.1-dev``) with every component
    tiny: a 1+1-block transformer with guidance embedding (as the dev model), a one-block VAE,
    small CLIP and T5 text encoders, and tokenizers built here (byte-level BPE with merges for
    the prompt ``words``, a character unigram), saved with ``save_pretrained``."""
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    clip_tokenizer, clip_vocab = _clip_tokenizer(words)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        transformer = FluxTransformer2DModel(
            patch_size=1,
            in_channels=4,
            num_layers=1,
            num_single_layers=1,
            attention_head_dim=16,
            num_attention_heads=2,
            joint_attention_dim=32,
            pooled_projection_dim=32,
            guidance_embeds=True,
            axes_dims_rope=[4, 4, 8],
        )
        clip = CLIPTextModel(
            CLIPTextConfig(
                vocab_size=clip_vocab,
                hidden_size=32,
                intermediate_size=37,
                num_hidden_layers=1,
                num_attention_heads=4,
                projection_dim=32,
                bos_token_id=0,
                eos_token_id=1,
                pad_token_id=1,
            )
        )
        t5 = T5EncoderModel(
            T5Config(vocab_size=100, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4)
        )
        vae = AutoencoderKL(
            in_channels=3,
            out_channels=3,
            block_out_channels=(4,),
            layers_per_block=1,
            latent_channels=1,
            norm_num_groups=1,
            use_quant_conv=False,
            use_post_quant_conv=False,
            shift_factor=0.0609,
            scaling_factor=1.5035,
        )
    pipe = FluxPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=clip,
        tokenizer=clip_tokenizer,
        text_encoder_2=t5,
        tokenizer_2=_t5_tokenizer(),
        transformer=transformer,
    )
    pipe.save_pretrained(folder)


def prompt_words() -> set[str]:
    """The lowercase words of the prompt design: templates, demographic slots, descriptors."""
    text = " ".join(
        [
            *prompts.TEMPLATES.values(),
            *demographics.ETHNICITIES,
            *demographics.GENDERS,
            *loaders.load_guide()["word"],
        ]
    )
    return set(re.findall(r"[a-z]+", text.lower()))


def _clip_tokenizer(words):
    """A CLIP tokenizer (byte-level BPE, ``</w>`` word ends) whose merges are trained here on
    ``words``, so a prompt of those words takes about one token per word, as with the real
    vocabulary (the pipeline cuts CLIP input at 77 tokens). Returns it and its vocabulary size."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import CLIPTokenizer

    specials = ["<|startoftext|>", "<|endoftext|>"]
    bpe = Tokenizer(models.BPE(end_of_word_suffix="</w>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=8000,
        special_tokens=specials,
        end_of_word_suffix="</w>",
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(sorted(words), trainer)
    model = json.loads(bpe.to_str())["model"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = dict(model["vocab"])
    for char in sorted(alphabet):  # every byte also ends a word somewhere
        vocab.setdefault(char + "</w>", len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77), len(vocab)


def _t5_tokenizer():
    """A T5 tokenizer over the printable ASCII characters (a unigram model)."""
    from transformers import T5Tokenizer

    pieces = [
        ("<pad>", 0.0),
        ("</s>", 0.0),
        ("<unk>", 0.0),
        ("\u2581", -2.0),
        *[(chr(c), -3.0) for c in range(33, 127)],
    ]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=512)
