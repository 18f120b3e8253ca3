"""Backends that :func:`emonet.benchmarking.annotate.annotate` asks.

* :class:`TransformersVLM`: any chat vision-language model that ``transformers`` loads for
  image-text-to-text (``AutoModelForImageTextToText`` with its ``AutoProcessor``: Qwen2.5-VL,
  SmolVLM/Idefics3, LLaVA, ...), from a hub id or a folder; weights only as safetensors, never
  ``trust_remote_code``. Replies are generated in batches with the KV cache; the rating
  probabilities share one prefill per batch (:meth:`TransformersVLM.rating_probabilities`).
* :class:`PerceiverVLM`: a model that perceives given ratings and answers each protocol as it
  asks (the book's readout study on a panel with known truth).
* :func:`build_tiny_vlm`: a tiny randomly initialised LLaVA-architecture VLM written to a
  folder, tokenizer and processor built locally (no download), for tests and benchmarks.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from emonet.benchmarking import replies
from emonet.benchmarking.annotate import AnnotationError
from emonet.data import protocols, taxonomy
from emonet.data.checksums import sha256_bytes
from emonet.model import encoder

#: Ratings the logits readout reads, as the tokens ``"0"`` ... ``"7"``.
RATINGS = tuple(range(8))

DTYPES = ("float32", "float16", "bfloat16")


@dataclass(frozen=True)
class Generated:
    """One generated reply: its text, the prompt's length and the reply's in tokens."""

    text: str
    prompt_tokens: int
    new_tokens: int


@contextmanager
def _torch_threads(threads: int | None):
    """torch's CPU threads set to ``threads`` for the block (None: left as they are)."""
    import torch

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _quiet(quiet: bool = True):
    """transformers imported without tqdm's notebook warning (:func:`emonet.model.encoder.
    _quiet_imports`) and, with ``quiet``, its progress bars (loading, saving) off for the
    block."""
    encoder._quiet_imports()
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    if quiet:
        hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _chat(prompt: str) -> list[dict]:
    """The conversation the authors sent: one user turn with the image and the prompt."""
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}]


class TransformersVLM:
    """A chat VLM from ``transformers``.

    ``temperature`` 0 decodes greedily; above 0 each reply samples from the softmax at that
    temperature with its own seed (Gumbel-max noise from a generator per row, so a reply does
    not depend on the batch it was in). ``max_new_tokens`` caps the authors' reply lengths
    (1000 zero-shot, 2000 multi-shot; None: theirs). ``threads``: torch's CPU threads during
    this model's calls (a tiny model runs faster on one; None: torch's setting).
    """

    def __init__(
        self,
        model_id: str,
        *,
        device: str | None = None,
        dtype: str = "float32",
        batch_size: int = 4,
        max_new_tokens: int | None = None,
        temperature: float = 1.0,
        threads: int | None = None,
        quiet: bool = False,
    ):
        import torch

        if dtype not in DTYPES:
            raise AnnotationError(f"unknown dtype {dtype!r}; choose one of {DTYPES}")
        if batch_size < 1 or (max_new_tokens is not None and max_new_tokens < 1):
            raise AnnotationError("batch size and max new tokens must be at least 1")
        if temperature < 0:
            raise AnnotationError(f"temperature must be 0 (greedy) or more, got {temperature}")
        self.name, self.dtype, self.batch_size = str(model_id), dtype, int(batch_size)
        self.max_new_tokens, self.temperature = max_new_tokens, float(temperature)
        self.threads = threads
        self.use_cache = True  # the KV cache in generation (off only to measure what it saves)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        try:
            with _quiet(quiet):
                from transformers import AutoModelForImageTextToText, AutoProcessor

                self.processor = AutoProcessor.from_pretrained(self.name, local_files_only=offline)
                self.model = AutoModelForImageTextToText.from_pretrained(
                    self.name,
                    dtype=getattr(torch, dtype),
                    local_files_only=offline,
                    use_safetensors=True,
                )
        except (OSError, ValueError, KeyError) as err:
            where = (
                "it is not a local folder and not in the Hugging Face cache, and "
                "HF_HUB_OFFLINE is set"
                if offline
                else "see the cause above"
            )
            raise AnnotationError(
                f"cannot load {self.name!r} as an image-text-to-text model: "
                f"{where} ({type(err).__name__}: "
                f"{str(err).splitlines()[0] if str(err) else ''})"
            ) from err
        self.model.to(self.device).eval()
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None or not getattr(self.processor, "chat_template", None):
            raise AnnotationError(
                f"{self.name}: its processor has no tokenizer or no chat "
                "template; a chat VLM is needed"
            )
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._rating_ids = None

    @property
    def settings(self) -> dict:
        """What the replies depend on besides the model id."""
        import transformers

        return {
            "dtype": self.dtype,
            "temperature": self.temperature,
            "max_new_tokens": self.max_new_tokens,
            "transformers": transformers.__version__,
            "commit": getattr(self.model.config, "_commit_hash", None),
        }

    def _inputs(self, images, positions, texts):
        """Tokenised chats with their images on the model's device (floats in its dtype)."""
        inputs = self.processor(
            text=texts,
            images=[[images.open(i)] for i in positions],
            padding=True,
            return_tensors="pt",
        )
        return {
            k: v.to(self.device, dtype=self.model.dtype)
            if v.is_floating_point()
            else v.to(self.device)
            for k, v in inputs.items()
        }

    def _text(self, prompt: str) -> str:
        return self.processor.apply_chat_template(
            _chat(prompt), add_generation_prompt=True, tokenize=False
        )

    def generate(self, images, positions, prompts, seeds, max_new_tokens: int) -> list[Generated]:
        """Replies to ``prompts`` about the images at ``positions``, one batch."""
        import torch
        from transformers import GenerationConfig, LogitsProcessorList

        inputs = self._inputs(images, positions, [self._text(p) for p in prompts])
        eos = self.model.generation_config.eos_token_id
        config = GenerationConfig(
            max_new_tokens=min(max_new_tokens, self.max_new_tokens or max_new_tokens),
            do_sample=False,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=eos,
            use_cache=self.use_cache,
        )
        noise = (
            LogitsProcessorList([_gumbel(seeds, self.temperature, self.device)])
            if self.temperature > 0
            else None
        )
        with torch.inference_mode(), _torch_threads(self.threads):
            out = self.model.generate(**inputs, generation_config=config, logits_processor=noise)
        new = out[:, inputs["input_ids"].shape[1] :]
        stops = torch.tensor(
            sorted({*np.atleast_1d(eos).tolist(), self.tokenizer.pad_token_id}), device=new.device
        )
        ended = torch.isin(new, stops)
        lengths = torch.where(ended.any(1), ended.int().argmax(1) + 1, new.shape[1])
        texts = self.tokenizer.batch_decode(new, skip_special_tokens=True)
        prompt_tokens = inputs["attention_mask"].sum(1)
        return [Generated(t, int(p), int(n)) for t, p, n in zip(texts, prompt_tokens, lengths)]

    def rating_tokens(self) -> tuple[list[int], str]:
        """The token of each rating 0-7 as it follows ``"rating":``, and what the context keeps
        of the space before it (``" "``, or ``""`` when the tokenizer writes the space into the
        rating's token). Raises when a rating is not one token."""
        if self._rating_ids is None:

            def encode(text):
                return self.tokenizer(text, add_special_tokens=False)["input_ids"]

            context = '{"rating": '
            seqs = [encode(context + str(k)) for k in RATINGS]
            common = 0
            while all(len(s) > common for s in seqs) and len({s[common] for s in seqs}) == 1:
                common += 1
            if any(len(s) != common + 1 for s in seqs):
                raise AnnotationError(
                    f"{self.name}: the tokenizer does not write each rating "
                    "0-7 as one token after '\"rating\": '; the logits "
                    "readout needs one"
                )
            for tail in (" ", ""):
                if encode(context[:-1] + tail) == seqs[0][:common]:
                    break
            else:
                raise AnnotationError(
                    f"{self.name}: cannot place the rating tokens after '\"rating\":'"
                )
            self._rating_ids = ([s[common] for s in seqs], tail)
        return self._rating_ids

    def rating_probabilities(self, images, positions, prompt: str, prefix: str, suffixes):
        """For each image and suffix, the probability of each rating token 0-7 right after the
        chat, ``prefix`` and the suffix (renormalised over the 8), and the probability mass the
        8 tokens had: ``(len(positions), len(suffixes), 8)`` and ``(len(positions),
        len(suffixes))``. One prefill per group of images whose chats have the same length
        (no padding), then each suffix runs on the KV cache, which is cut back after it."""
        import torch

        ids, tail = self.rating_tokens()
        text = self._text(prompt) + prefix
        inputs = self._inputs(images, positions, [text] * len(positions))
        lengths = inputs["attention_mask"].sum(1)
        if (lengths != lengths[0]).any():  # different image token counts: one group per length
            probs = np.zeros((len(positions), len(suffixes), len(RATINGS)))
            mass = np.zeros((len(positions), len(suffixes)))
            for length in lengths.unique().tolist():
                rows = np.flatnonzero((lengths == length).cpu().numpy())
                probs[rows], mass[rows] = self.rating_probabilities(
                    images, [positions[r] for r in rows], prompt, prefix, suffixes
                )
            return probs, mass
        n = len(positions)
        probs = np.zeros((n, len(suffixes), len(RATINGS)))
        mass = np.zeros((n, len(suffixes)))
        with torch.inference_mode(), _torch_threads(self.threads):
            cache = self.model(**inputs, use_cache=True, logits_to_keep=1).past_key_values
            if hasattr(cache, "activate_past_recording"):
                cache.activate_past_recording()
            prefill = inputs["input_ids"].shape[1]
            for k, suffix in enumerate(suffixes):
                tokens = self.tokenizer(
                    suffix + tail, add_special_tokens=False, return_tensors="pt"
                )["input_ids"].to(self.device)
                tokens = tokens.repeat(n, 1)
                mask = torch.ones(
                    n, prefill + tokens.shape[1], dtype=torch.long, device=self.device
                )
                logits = (
                    self.model(
                        input_ids=tokens,
                        attention_mask=mask,
                        past_key_values=cache,
                        use_cache=True,
                        logits_to_keep=1,
                    )
                    .logits[:, -1]
                    .float()
                )
                p = torch.softmax(logits, dim=-1)[:, ids].cpu().numpy()
                mass[:, k] = p.sum(1)
                probs[:, k] = p / p.sum(1, keepdims=True)
                cache.crop(-tokens.shape[1])
        return probs, mass


def _gumbel(seeds, temperature: float, device: str):
    """A logits processor that samples at ``temperature`` under greedy decoding: Gumbel noise
    from one seeded generator per row (Gumbel-max: argmax of logits / T + noise is a draw from
    softmax(logits / T))."""
    import torch
    from transformers import LogitsProcessor

    class GumbelNoise(LogitsProcessor):
        def __init__(self):
            self.generators = [torch.Generator(device=device).manual_seed(int(s)) for s in seeds]

        def __call__(self, input_ids, scores):
            u = torch.stack(
                [
                    torch.rand(scores.shape[-1], generator=g, device=scores.device)
                    for g in self.generators
                ]
            )
            noise = -torch.log(-torch.log(u.clamp(1e-20, 1.0 - 1e-7)))
            return scores.float() / temperature + noise

    return GumbelNoise()


class PerceiverVLM:
    """A stand-in VLM that perceives known ratings (``perception``: images x 40 on 0-7, indexed
    by image id) and answers as each protocol asks.

    Zero-shot: the 25 categories it perceives most (ties by canonical order), each rated
    ``round(clip(x, 1, 7))``, since the protocol forbids 0. Multi-shot: the 5 it perceives most,
    ``round(clip(x, 0, 7))``, every other emotion 0, the extra dimensions (which it does not
    perceive) at 0 or the middle of their scale. Logits: ``P(k) ~ exp(-(k - x)^2 / (2 sd^2))``
    over the ratings 0-7. With probability ``slip_rate`` (a draw from the attempt's seed) a
    reply breaks its protocol's rule: one category too few in zero-shot, a sixth non-zero
    emotion in multi-shot.
    """

    name = "simulated perceiver"

    def __init__(
        self,
        perception: pd.DataFrame,
        rating_sd: float = 1.0,
        slip_rate: float = 0.0,
        batch_size: int = 256,
    ):
        if list(perception.columns) != list(taxonomy.EMOTIONS):
            raise AnnotationError(
                "perception needs the 40 categories as columns in canonical order"
            )
        if rating_sd <= 0 or not 0 <= slip_rate <= 1:
            raise AnnotationError("rating_sd must be positive and slip_rate within 0-1")
        self.perception = perception.astype(float)
        self.rating_sd, self.slip_rate, self.batch_size = rating_sd, slip_rate, batch_size
        self.zero, self.multi = protocols.zero_shot(), protocols.multi_shot()
        self._zero_parts = self.zero.prompt("\0").split("\0")  # around the file name

    @property
    def settings(self) -> dict:
        values = np.ascontiguousarray(self.perception.to_numpy())
        return {
            "rating_sd": self.rating_sd,
            "slip_rate": self.slip_rate,
            "perception": sha256_bytes(values.tobytes(), "|".join(self.perception.index).encode())[
                :16
            ],
        }

    def _ranked(self, image: str) -> tuple[np.ndarray, np.ndarray]:
        x = self.perception.loc[image].to_numpy()
        return x, np.argsort(-x, kind="stable")

    def generate(self, images, positions, prompts, seeds, max_new_tokens: int) -> list[Generated]:
        out = []
        for i, prompt, seed in zip(positions, prompts, seeds):
            image, file_name = images.ids[i], images.file_names[i]
            slip = np.random.default_rng(seed).random() < self.slip_rate
            head, tail = self._zero_parts
            if prompt in (
                head + file_name + tail,
                head + file_name + tail + self.zero.additional_prompt,
            ):
                text = self._zero_shot(image, file_name, slip)
            elif prompt == self.multi.prompt():
                text = self._multi_shot(image, slip)
            else:
                raise AnnotationError(
                    "the simulated perceiver answers only the authors' protocol prompts"
                )
            out.append(Generated(text, 0, 0))  # no tokenizer: no token counts
        return out

    def _zero_shot(self, image: str, file_name: str, slip: bool) -> str:
        x, order = self._ranked(image)
        keep = order[: len(self.zero.categories) - slip]
        value = {
            taxonomy.family_key(taxonomy.EMOTIONS[c]): int(np.rint(np.clip(x[c], 1, 7)))
            for c in keep
        }
        return json.dumps({"key": ["simulated", self.name, file_name], "value": value})

    def _multi_shot(self, image: str, slip: bool) -> str:
        x, order = self._ranked(image)
        top = set(order[: self.multi.max_nonzero].tolist())
        emotions = {}
        for c, name in enumerate(taxonomy.EMOTIONS):
            rating = int(np.rint(np.clip(x[c], 0, 7))) if c in top else 0
            if slip and c == order[self.multi.max_nonzero]:
                rating = max(rating, 1)
            emotions[name] = {"rating": rating, "reasoning": "simulated perception"}
        extra = {}
        for name, spec in self.multi.extra_dimensions.items():
            low, high = replies.scale_bounds(spec["scale"])
            extra[name] = {
                "rating": 0 if low < 0 else (low + high) // 2,
                "reasoning": "not perceived (simulation)",
            }
        return json.dumps({"emotions": emotions, "extra_dimensions": extra})

    def rating_probabilities(self, images, positions, prompt: str, prefix: str, suffixes):
        if len(suffixes) != taxonomy.N_EMOTIONS:
            raise AnnotationError("the simulated perceiver rates the 40 emotions in order")
        x = self.perception.loc[[images.ids[i] for i in positions]].to_numpy()
        k = np.arange(len(RATINGS), dtype=float)
        weights = np.exp(-((k - x[..., None]) ** 2) / (2 * self.rating_sd**2))
        return weights / weights.sum(-1, keepdims=True), np.ones(x.shape)


#: The chat template of :func:`build_tiny_vlm` (one turn per message, the image as a token).
TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{% if m['content'] is string %}"
    "{{ m['content'] }}{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}"
    "<image>{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|end|>\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_tiny_vlm(
    folder,
    *,
    seed: int = 0,
    vocab_size: int = 3000,
    hidden_size: int = 64,
    layers: int = 2,
    image_size: int = 32,
    patch_size: int = 8,
) -> Path:
    """A tiny randomly initialised VLM written to ``folder``: the LLaVA architecture (a CLIP
    vision tower of ``(image_size / patch_size)^2`` patches, a Llama decoder of ``layers`` x
    ``hidden_size``), weights as safetensors, and a byte-level BPE tokenizer of ``vocab_size``
    tokens trained here on the two protocols' prompts, with its image processor and chat
    template. It loads like any hub model (:class:`TransformersVLM`) and needs no download;
    its replies are noise. Same arguments, same files."""
    encoder._quiet_imports()
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        GenerationConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        PreTrainedTokenizerFast,
    )

    folder = Path(folder)
    zero, multi = protocols.zero_shot(), protocols.multi_shot()
    corpus = [zero.prompt("image.png", retry=True), multi.template, '{"rating": 01234567}']
    special = ["<pad>", "<image>", "<|user|>", "<|assistant|>", "<|end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(
        corpus,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=special,
            show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="<pad>",
        eos_token="<|end|>",
        extra_special_tokens={"image_token": "<image>"},
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": image_size},
            crop_size={"height": image_size, "width": image_size},
        ),
        tokenizer=tokenizer,
        patch_size=patch_size,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=TINY_CHAT_TEMPLATE,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=hidden_size // 2,
            intermediate_size=hidden_size,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=patch_size,
        ),
        text_config=LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden_size,
            intermediate_size=2 * hidden_size,
            num_hidden_layers=layers,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=16384,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
        ),
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    with _quiet():
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
    return folder
