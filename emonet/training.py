"""Training EmpathicInsight-Face's 40 heads: pre-train on weak labels, fine-tune on expert yes/no
votes, with validation, early stopping, seeds, an ablation, and neutral means.

Data (one row per image, embeddings from :mod:`emonet.encoder`):

* **Big** (pre-training): weak 0-7 labels for all 40 categories. Local profile:
  :func:`weak_labels`, a stand-in for a VLM's ratings (noisy ground truth of the offline faces).
  Full profile: ``laion/emonet-face-big`` (:func:`load_hf_big`).
* **Binary** (fine-tuning): yes/no votes on two categories per image, collected by the
  sequential protocol. Local profile: :func:`emonet.binary.simulate_on_intensity` (simulated
  raters on the offline faces' ground truth). Full profile: ``laion/emonet-face-binary``
  (:func:`load_hf_binary`).

**How votes become targets** (:func:`vote_targets`): every vote is one regression observation,
"yes" standing for the intensity ``yes_value`` and "no" for 0. Summed squared error over an
item's ``n`` votes equals ``n`` times the squared error against their mean, so an item gets the
target ``yes_value * n_yes / n`` and the weight ``n``; categories not asked about an image get
weight 0 (no loss). The share of "yes" is the maximum-likelihood estimate of the item's
yes-probability even under the sequential stopping rule (the likelihood does not depend on it),
so the re-asked targets are not biased by the protocol; they are weighted by how much evidence
they carry. ``yes_value`` ties the two scales together: the mean over Big images of their
highest weak label, i.e. the intensity the weak labeler gives an image's most salient emotion.

**Anchoring the unasked categories** (:func:`anchored`): a Binary image carries votes on two of
the 40 categories, and half of the asked items are the prompted category, which a random image
shows with probability 1/40. Fine-tuning on the asked items alone therefore pulls every head
towards that 50/50 sample and raises its scores on all images (round 1 of chapter 04: mean
absolute error against the offline faces' truth 0.67 -> 1.59). When fine-tuning follows
pre-training, the 38 unasked categories of each image keep the pre-trained model's prediction as
their target, with weight ``anchor_weight`` per category (in votes: 1 = one vote's worth), the
"learning without forgetting" regulariser: the votes move what they inform and nothing else.

**Recipe** (:func:`train`): AdamW (the fused multi-tensor kernel) on weighted mean squared error
(weak labels: weight 1), mini-batches, inputs standardised with the training embeddings' mean
and SD (stored in the model, :meth:`emonet.heads.Heads.standardise`), a validation split per
role (:func:`split_ids`, by image), early stopping on the validation loss with the best epoch's
weights restored (epoch 0, the starting weights, competes too); ``recipe`` is ``"pretrain"``
(Big only), ``"finetune"`` (Binary only, from the random initialisation) or ``"both"`` (Big,
then the anchored Binary stage at a lower learning rate; :func:`finetune` continues a pre-trained
result, so an ablation pre-trains once). ``precision="bfloat16"`` runs the heads' matmuls in
bf16 during training (parameters, gradients, optimiser state, loss and validation stay fp32;
:class:`emonet.heads.Heads`). Seeded: the same inputs and seed give the same weights on one
machine.

**Scores**: raw head outputs, mean-subtracted (minus the head's mean raw output on neutral faces,
:func:`neutral_means`) and the softmax over the 40 mean-subtracted scores
(:func:`emonet.heads.scores`).

Outputs of chapter 04 read by chapter 05 (``artifacts/<profile>/``):

=====================================  ===========================================================
``models/empathic_insight_face.safetensors``  the chosen heads (:func:`emonet.heads.load_checkpoint`);
  ``.json`` beside it                  shape, input dim, encoder spec, neutral means, settings
``predictions/hq.parquet``             one row per HQ-role image: ``id``, ``path``, then
                                       ``raw:<emotion>``, ``mean_subtracted:<emotion>``,
                                       ``softmax:<emotion>`` (40 each, canonical order); read
                                       back with :func:`emonet.scoring.load_predictions`
=====================================  ===========================================================
"""

from __future__ import annotations

import ast
import copy
import io
import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from emonet import agreement, binary, taxonomy
from emonet.heads import Heads, predict

RECIPES = ("pretrain", "finetune", "both")
MODEL_NAME = "empathic_insight_face"


class TrainingDataError(ValueError):
    """Training data are malformed (the message names the source, row and field)."""


# --------------------------------------------------------------------------- stand-ins

def weak_labels(truth: np.ndarray, rng: np.random.Generator, noise_sd: float = 1.0,
                bias_sd: float = 0.5, scale_sd: float = 0.15, floor: float = 1.0) -> np.ndarray:
    """VLM-like weak labels ``(n, 40)`` on the integers 0-7 from ground truth ``(n, 40)``.

    Per category a miscalibration (scale ``1 + N(0, scale_sd)``, offset ``N(0, bias_sd)``), per
    rating noise ``N(0, noise_sd)``, rounding to an integer, and values below ``floor`` reported
    as 0 (a VLM names only the emotions it finds salient).
    """
    truth = np.asarray(truth, float)
    scale = 1.0 + rng.normal(0.0, scale_sd, truth.shape[1])
    offset = rng.normal(0.0, bias_sd, truth.shape[1])
    noisy = truth * scale + offset + rng.normal(0.0, noise_sd, truth.shape)
    labels = np.clip(np.rint(noisy), 0, 7)
    return np.where(labels < floor, 0.0, labels)


def split_ids(ids, val_fraction: float, seed: int) -> np.ndarray:
    """Boolean mask (aligned with ``ids``): True for the validation images, a seeded share
    ``val_fraction`` chosen from the sorted ids (independent of the input order)."""
    ids = np.asarray(ids).astype(str)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    order = np.sort(ids)
    n_val = max(1, int(round(val_fraction * len(ids))))
    chosen = set(order[np.random.default_rng(seed).permutation(len(ids))[:n_val]])
    return np.array([i in chosen for i in ids])


def yes_value(weak: np.ndarray) -> float:
    """Intensity a "yes" vote stands for: the mean over images of their highest weak label."""
    return float(np.asarray(weak, float).max(axis=1).mean())


def vote_targets(labels: pd.DataFrame, image_ids, yes: float) -> tuple[np.ndarray, np.ndarray]:
    """Regression targets and weights ``(n_images, 40)`` from yes/no votes.

    ``labels``: the collected votes in the :func:`emonet.data.load_binary` schema (``image,
    value, emotion, line``); ``image_ids`` fixes the row order (images without votes get zero
    weight). Target ``yes * n_yes / n``, weight ``n`` (see the module docstring).
    """
    counts, images = binary.item_counts(binary.items(labels))
    position = {str(i): k for k, i in enumerate(image_ids)}
    unknown = [i for i in images if str(i) not in position]
    if unknown:
        raise TrainingDataError(f"{len(unknown)} voted image(s) are not among the images to "
                                f"train on, e.g. {unknown[:3]}")
    rows = np.array([position[str(i)] for i in images], int)
    n = counts.sum(axis=-1)
    target = np.zeros((len(position), taxonomy.N_EMOTIONS))
    weight = np.zeros_like(target)
    target[rows] = np.where(n > 0, yes * counts[..., 1] / np.maximum(n, 1), 0.0)
    weight[rows] = n
    return target, weight


def neutral_faces(n: int, size: int = 128, seed: int = 0) -> list[bytes]:
    """``n`` offline faces rendered at expression intensity 0 (PNG bytes), spread over the
    demographic cells: only the generator's faint admixture of another category and its AU
    noise remain. The reference for the heads' neutral means."""
    from emonet import faces, prompts

    rng = np.random.default_rng(seed)
    groups = list(prompts.ETHNICITY_GROUPS)
    out = []
    for i in range(n):
        face = faces.render(taxonomy.EMOTIONS[i % taxonomy.N_EMOTIONS], groups[i % len(groups)],
                            prompts.AGES[i % len(prompts.AGES)],
                            prompts.GENDERS[i % len(prompts.GENDERS)],
                            int(rng.integers(2**31 - 1)), size=size, intensity=0.0)
        buffer = io.BytesIO()
        face.image.save(buffer, format="PNG")
        out.append(buffer.getvalue())
    return out


def neutral_means(heads: Heads, embeddings: np.ndarray) -> np.ndarray:
    """Mean raw score per head ``(40,)`` over neutral images' embeddings ``(n, D)``."""
    return predict(heads, embeddings).mean(axis=0)


# --------------------------------------------------------------------------- training

PRECISIONS = ("float32", "bfloat16")


@dataclass
class Settings:
    """Training settings (saved with the checkpoint)."""

    shape: str = "large"
    dropout: float = 0.1
    batch_size: int = 64
    lr_pretrain: float = 1e-3
    lr_finetune: float = 3e-4
    weight_decay: float = 1e-4
    max_epochs_pretrain: int = 60
    max_epochs_finetune: int = 60
    patience: int = 8
    seed: int = 42
    standardise: bool = True
    anchor_weight: float = 1.0
    precision: str = "float32"

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose one of {PRECISIONS}")
        if self.anchor_weight < 0:
            raise ValueError(f"anchor_weight must be >= 0, got {self.anchor_weight}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Stage:
    """One role's data for training: embeddings ``(n, D)``, targets and weights ``(n, 40)``,
    and the validation mask ``(n,)``."""

    x: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    val: np.ndarray

    def part(self, val: bool):
        keep = self.val if val else ~self.val
        return (torch.as_tensor(self.x[keep], dtype=torch.float32),
                torch.as_tensor(self.target[keep], dtype=torch.float32),
                torch.as_tensor(self.weight[keep], dtype=torch.float32))


@dataclass
class Result:
    """A trained model and its learning curves (``stage, epoch, train_loss, val_loss,
    seconds``; ``best`` marks the epoch whose weights were kept)."""

    recipe: str
    heads: Heads
    history: pd.DataFrame
    seconds: float
    extra: dict = field(default_factory=dict)


def weighted_mse(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``sum(w (pred - target)^2) / sum(w)`` over all images and heads."""
    return (weight * (pred - target) ** 2).sum() / weight.sum().clamp_min(1e-12)


def _fit(heads: Heads, stage: Stage, lr: float, settings: Settings, max_epochs: int,
         name: str, seed: int) -> pd.DataFrame:
    """Train ``heads`` in place with early stopping; restore the best epoch's weights. Epoch 0
    (the starting weights, validation loss only) competes, so a stage that never improves the
    validation loss leaves the weights as they were."""
    x, y, w = stage.part(val=False)
    xv, yv, wv = stage.part(val=True)
    # One fused kernel per step: the default for-loop AdamW makes ~10 passes over every
    # parameter tensor, which dominates a step of the 40 stacked heads (benchmarks/bench_heads).
    opt = torch.optim.AdamW(heads.parameters(), lr=lr, weight_decay=settings.weight_decay,
                            fused=True)
    dtype = getattr(torch, settings.precision)
    gen = torch.Generator().manual_seed(seed)

    def validation_loss() -> float:  # always in fp32: early stopping judges the fp32 model
        heads.eval()
        with torch.no_grad():
            return float(weighted_mse(heads(xv), yv, wv))

    best = validation_loss()
    best_state, since, rows = copy.deepcopy(heads.state_dict()), 0, [(name, 0, np.nan, best, 0.0)]
    for epoch in range(1, max_epochs + 1):
        tic = time.perf_counter()
        heads.train()
        order = torch.randperm(len(x), generator=gen)
        total, mass = 0.0, 0.0
        for start in range(0, len(x), settings.batch_size):
            idx = order[start:start + settings.batch_size]
            batch_mass = float(w[idx].sum())
            if batch_mass == 0:
                continue
            loss = weighted_mse(heads(x[idx], dtype), y[idx], w[idx])
            opt.zero_grad(set_to_none=False)  # the heads keep their gradient buffers
            loss.backward()
            opt.step()
            total += float(loss.detach()) * batch_mass
            mass += batch_mass
        val = validation_loss()
        rows.append((name, epoch, total / max(mass, 1e-12), val, time.perf_counter() - tic))
        if val < best - 1e-6:
            best, best_state, since = val, copy.deepcopy(heads.state_dict()), 0
        else:
            since += 1
            if since >= settings.patience:
                break
    heads.load_state_dict(best_state)
    history = pd.DataFrame(rows, columns=["stage", "epoch", "train_loss", "val_loss", "seconds"])
    history["best"] = history["val_loss"] == best
    return history


def anchored(votes: Stage, heads: Heads, anchor_weight: float) -> Stage:
    """The Binary stage for fine-tuning pre-trained ``heads``: asked categories keep their vote
    targets and weights; every unasked category of a training image gets the heads' own
    prediction (eval mode) as target with weight ``anchor_weight`` (see the module docstring).
    Validation images keep their votes alone: the anchor is a prior, not evidence, so early
    stopping judges the fine-tuning by the held-out votes."""
    if anchor_weight == 0:
        return votes
    keep = (votes.weight > 0) | votes.val[:, None]  # validation: the votes alone
    prior = predict(heads, votes.x)
    return Stage(votes.x, np.where(keep, votes.target, prior),
                 np.where(keep, votes.weight, anchor_weight), votes.val)


def _check_data(recipe: str, big: Stage | None, votes: Stage | None) -> None:
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; choose one of {RECIPES}")
    if recipe in ("pretrain", "both") and big is None:
        raise TrainingDataError(f"recipe {recipe!r} needs Big (weak-label) data")
    if recipe in ("finetune", "both") and votes is None:
        raise TrainingDataError(f"recipe {recipe!r} needs Binary (vote) data")


def train(recipe: str, input_dim: int, big: Stage | None, votes: Stage | None,
          settings: Settings) -> Result:
    """Train 40 heads with ``recipe`` (see :data:`RECIPES`) from a seeded initialisation;
    ``"both"`` is :func:`finetune` of the ``"pretrain"`` result."""
    _check_data(recipe, big, votes)
    if recipe == "both":
        return finetune(train("pretrain", input_dim, big, None, settings), votes, settings)
    first = big if recipe == "pretrain" else votes
    torch.manual_seed(settings.seed)
    heads = Heads(settings.shape, input_dim, settings.dropout, seed=settings.seed)
    if settings.standardise:
        heads.standardise(first.x[~first.val])
    tic = time.perf_counter()
    if recipe == "pretrain":
        history = _fit(heads, big, settings.lr_pretrain, settings, settings.max_epochs_pretrain,
                       "pretrain", settings.seed)
    else:
        history = _fit(heads, votes, settings.lr_pretrain, settings,
                       settings.max_epochs_finetune, "finetune", settings.seed + 1)
    history.insert(0, "recipe", recipe)
    return Result(recipe, heads, history, time.perf_counter() - tic)


def finetune(pretrained: Result, votes: Stage, settings: Settings,
             recipe: str = "both") -> Result:
    """Fine-tune a copy of a ``"pretrain"`` result on the anchored Binary stage (:func:`anchored`
    with ``settings.anchor_weight``) at ``lr_finetune``. ``seconds`` and ``history`` cover both
    stages; ``extra["finetune_seconds"]`` the second alone."""
    if pretrained.recipe != "pretrain":
        raise ValueError(f"finetune continues a 'pretrain' result, got {pretrained.recipe!r}")
    heads = copy.deepcopy(pretrained.heads)
    tic = time.perf_counter()
    history = _fit(heads, anchored(votes, heads, settings.anchor_weight), settings.lr_finetune,
                   settings, settings.max_epochs_finetune, "finetune", settings.seed + 1)
    seconds = time.perf_counter() - tic
    history.insert(0, "recipe", recipe)
    history = pd.concat([pretrained.history.assign(recipe=recipe), history], ignore_index=True)
    return Result(recipe, heads, history, pretrained.seconds + seconds,
                  {"finetune_seconds": seconds})


# --------------------------------------------------------------------------- metrics

def per_emotion_metrics(pred: np.ndarray, truth: np.ndarray) -> pd.DataFrame:
    """Per category (canonical order): Spearman rho and Pearson r of predictions ``(n, 40)``
    with a 0-7 reference ``(n, 40)``, mean absolute error, and the reference's SD (a category
    whose reference barely varies cannot be ranked)."""
    pred, truth = np.asarray(pred, float), np.asarray(truth, float)
    rho = agreement.spearman(pred, truth, axis=0)
    pc, tc = pred - pred.mean(0), truth - truth.mean(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (pc * tc).sum(0) / np.sqrt((pc ** 2).sum(0) * (tc ** 2).sum(0))
    return pd.DataFrame({"emotion": list(taxonomy.EMOTIONS),
                         "family": [taxonomy.FAMILY_OF[e] for e in taxonomy.EMOTIONS],
                         "spearman": rho, "pearson": r,
                         "mae": np.abs(pred - truth).mean(0), "reference_sd": truth.std(0)})


def first_votes(labels: pd.DataFrame, image_ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first vote on each asked item: row (position in ``image_ids``), column (canonical
    emotion index) and the answer (True = yes), each ``(n_items,)``."""
    position = {str(i): k for k, i in enumerate(image_ids)}
    first = labels.sort_values("line").groupby(["image", "emotion"], observed=True,
                                               sort=False)["value"].first().reset_index()
    return (first["image"].astype(str).map(position).to_numpy(),
            first["emotion"].astype(str).map(taxonomy.INDEX).to_numpy(),
            first["value"].to_numpy(bool))


def vote_auc(pred: np.ndarray, labels: pd.DataFrame, image_ids) -> float:
    """Area under the ROC curve of the head scores for the first vote on each asked item
    ("yes" vs "no"): how well the scores rank the items the raters said yes to."""
    rows, cols, yes = first_votes(labels, image_ids)
    if yes.all() or not yes.any():
        return float("nan")
    ranks = stats.rankdata(pred[rows, cols])
    return float((ranks[yes].sum() - yes.sum() * (yes.sum() + 1) / 2) / (yes.sum() * (~yes).sum()))


def auc_standard_error(auc: float, n_yes: int, n_no: int) -> float:
    """Standard error of an AUC from ``n_yes`` positive and ``n_no`` negative items (Hanley &
    McNeil 1982, exponential approximation)."""
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    return float(np.sqrt((auc * (1 - auc) + (n_yes - 1) * (q1 - auc ** 2)
                          + (n_no - 1) * (q2 - auc ** 2)) / (n_yes * n_no)))


# --------------------------------------------------------------------------- full profile data

def _hf_dataset(source: str):
    """A Hugging Face dataset by hub id, or a local parquet file in the same schema; images are
    kept encoded (``Image(decode=False)``: dicts with ``bytes``)."""
    from datasets import Image, load_dataset

    if source.endswith(".parquet"):
        data = load_dataset("parquet", data_files=source, split="train")
    else:
        data = load_dataset(source, split="train")
    if "image" not in data.column_names:
        raise TrainingDataError(f"{source}: no 'image' column (columns: {data.column_names})")
    return data.cast_column("image", Image(decode=False))


class DatasetImages:
    """The encoded image bytes of a Hugging Face dataset as a lazy sequence (for
    :meth:`emonet.encoder.Encoder.embed`): nothing is held in memory."""

    def __init__(self, data, source: str):
        self.data, self.source = data, source

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> bytes:
        cell = self.data[int(i)]["image"]
        blob = cell.get("bytes") if isinstance(cell, dict) else None
        if not blob:
            raise TrainingDataError(f"{self.source}: row {i} has no embedded image bytes")
        return blob


def parse_annotations(cell, where: str) -> np.ndarray:
    """40 weak intensities (canonical order) from one ``annotations`` cell: a dict, or a JSON /
    Python-literal string of one, mapping a category (its name, a known alias or a
    ``"Family|Emotion"`` key) to a number on 0-7; a list of such dicts is averaged. Missing
    categories count as 0; ``Extra Dimensions|...`` keys are not categories and are skipped."""
    if isinstance(cell, str):
        try:
            cell = json.loads(cell)
        except json.JSONDecodeError:
            try:
                cell = ast.literal_eval(cell)
            except (ValueError, SyntaxError):
                raise TrainingDataError(f"{where}: annotations are neither JSON nor a Python "
                                        f"literal: {cell[:60]!r}") from None
    if isinstance(cell, (list, tuple)):
        if not cell:
            raise TrainingDataError(f"{where}: empty list of annotations")
        return np.mean([parse_annotations(c, where) for c in cell], axis=0)
    if not isinstance(cell, dict):
        raise TrainingDataError(f"{where}: annotations must be a dict of category -> 0-7, got "
                                f"{type(cell).__name__}")
    out = np.zeros(taxonomy.N_EMOTIONS)
    for key, value in cell.items():
        if value is None:
            continue
        try:
            name, is_category = taxonomy.from_family_key(key) if "|" in str(key) else \
                (taxonomy.canonical(key), True)
        except taxonomy.UnknownEmotionError as err:
            raise TrainingDataError(f"{where}: {err}") from None
        if not is_category:
            continue
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TrainingDataError(f"{where}: {key!r} has a non-numeric value {value!r}") \
                from None
        if not 0.0 <= value <= 7.0:
            raise TrainingDataError(f"{where}: {key!r} = {value} lies outside 0-7")
        out[taxonomy.INDEX[name]] = value
    return out


def load_hf_big(source: str = "laion/emonet-face-big"):
    """The Big set: ``(images, weak)`` with ``images`` a lazy sequence of encoded images and
    ``weak`` ``(n, 40)`` from the ``annotations`` column (dataset card fields: ``image``,
    ``prompt``, ``demographics``, ``annotations``)."""
    data = _hf_dataset(source)
    if "annotations" not in data.column_names:
        raise TrainingDataError(f"{source}: no 'annotations' column (columns: "
                                f"{data.column_names})")
    cells = data["annotations"]
    weak = np.stack([parse_annotations(c, f"{source} row {i}") for i, c in enumerate(cells)]) \
        if len(cells) else np.zeros((0, taxonomy.N_EMOTIONS))
    return DatasetImages(data, source), weak


def load_hf_binary(source: str = "laion/emonet-face-binary"):
    """The Binary set: ``(images, ids, labels)``: one encoded image per distinct ``path`` (first
    row), their ids, and the votes in the :func:`emonet.data.load_binary` schema. Rows follow
    :data:`emonet.prompts.HF_COLUMNS` plus ``image``; ``label`` is yes/no (or true/false, 1/0)."""
    from emonet.prompts import HF_COLUMNS

    data = _hf_dataset(source)
    missing = [c for c in ("path", "emotion", "label") if c not in data.column_names]
    if missing:
        raise TrainingDataError(f"{source}: missing column(s) {missing}; expected "
                                f"{list(HF_COLUMNS)} and 'image'")
    meta = data.select_columns(["path", "emotion", "label"]).to_pandas()
    answer = meta["label"].astype(str).str.strip().str.lower()
    known = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}
    bad = ~answer.isin(known)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise TrainingDataError(f"{source} row {row}: label {meta['label'].iloc[row]!r} is not "
                                f"yes/no ({int(bad.sum())} such rows)")
    emotions = []
    for row, name in enumerate(meta["emotion"].astype(str)):
        try:
            emotions.append(taxonomy.canonical(name))
        except taxonomy.UnknownEmotionError as err:
            raise TrainingDataError(f"{source} row {row}: {err}") from None
    labels = pd.DataFrame({"image": meta["path"].astype(str).to_numpy(),
                           "value": answer.map(known).to_numpy(bool),
                           "emotion": pd.Categorical(emotions, categories=taxonomy.EMOTIONS),
                           "line": np.arange(len(meta)) + 2})
    first = ~meta["path"].astype(str).duplicated().to_numpy()
    ids = meta["path"].astype(str).to_numpy()[first]
    images = DatasetImages(data.select(np.flatnonzero(first).tolist()), source)
    return images, ids, labels


# --------------------------------------------------------------------------- the chapter's run

@dataclass
class Roles:
    """The images of one run: for each role (``big``, ``binary``, ``hq``) the image ids and the
    images themselves (paths or a lazy sequence of bytes); ``truth`` ``(n, 40)`` per role where
    the images have ground truth (local profile), else None; Big's weak labels and Binary's
    collected votes (:func:`emonet.data.load_binary` schema)."""

    ids: dict[str, np.ndarray]
    images: dict[str, object]
    weak: np.ndarray
    votes: pd.DataFrame
    truth: dict[str, np.ndarray] | None = None


def local_roles(manifest: pd.DataFrame, root, seed: int, weak: dict, panel: dict) -> Roles:
    """The local profile's data from chapter 02's manifest: the Big/Binary/HQ roles of
    :func:`emonet.prompts.assign_subsets`, weak labels (:func:`weak_labels` with ``weak``) for
    Big and the simulated Binary panel (:func:`emonet.binary.simulate_on_intensity` with
    ``panel``; the target is the prompted category) for Binary."""
    from emonet import generate, prompts

    roles = prompts.assign_subsets(manifest, seed=seed).to_numpy()
    truth = generate.truth_matrix(manifest)
    if np.isnan(truth).any():
        raise TrainingDataError("the manifest has no ground truth (not the offline faces): the "
                                "local stand-ins need it")
    ids = {r: manifest["id"].to_numpy()[roles == r] for r in prompts.SUBSETS}
    images = {r: [str(Path(root) / p) for p in manifest["path"].to_numpy()[roles == r]]
              for r in prompts.SUBSETS}
    truths = {r: truth[roles == r] for r in prompts.SUBSETS}
    rng = np.random.default_rng([seed, 4])
    labels = weak_labels(truths["big"], rng, **weak)
    target = manifest["emotion"].map(taxonomy.INDEX).to_numpy()[roles == "binary"]
    panel = dict(panel)
    sim = binary.simulate_on_intensity(ids["binary"], truths["binary"], target,
                                       panel.pop("leniency"), panel.pop("rater_weights"),
                                       rng=rng, **panel)
    return Roles(ids, images, labels, sim[sim["asked"]].drop(columns="asked"), truths)


def embed_roles(data: Roles, encoder) -> dict[str, np.ndarray]:
    """Embeddings ``(n, D)`` of every role's images (cached by the encoder)."""
    return {role: encoder.embed(images) for role, images in data.images.items()}


def stages(data: Roles, x: dict[str, np.ndarray], val_fraction: float, seed: int
           ) -> tuple[Stage, Stage, float]:
    """The Big and Binary training stages (targets, weights, validation masks) and the
    ``yes_value`` used for the votes."""
    yes = yes_value(data.weak)
    big = Stage(x["big"], data.weak, np.ones_like(data.weak),
                split_ids(data.ids["big"], val_fraction, seed))
    target, weight = vote_targets(data.votes, data.ids["binary"], yes)
    votes = Stage(x["binary"], target, weight, split_ids(data.ids["binary"], val_fraction,
                                                         seed + 1))
    return big, votes, yes


#: The ablation's extra row: "both" fine-tuned without the anchor (``anchor_weight=0``).
UNANCHORED = "unanchored"


def ablation(data: Roles, big: Stage, votes: Stage, settings: Settings,
             unanchored: bool = True
             ) -> tuple[dict[str, Result], pd.DataFrame, dict[str, pd.DataFrame]]:
    """Train every recipe (pre-training once: ``"both"`` fine-tunes the ``"pretrain"`` result)
    and, with ``unanchored``, ``"both"`` without the anchor (:data:`UNANCHORED`); evaluate each
    on the validation images of both roles (never trained on by any recipe). Returns the results,
    the ablation table (one row per recipe: seconds of training including a shared pre-training,
    epochs, weak-label agreement on Big validation, vote AUC on Binary validation and, where
    there is ground truth, agreement with it) and per-emotion metrics against the ground truth
    (or the weak labels)."""
    results = {"pretrain": train("pretrain", big.x.shape[1], big, None, settings),
               "finetune": train("finetune", big.x.shape[1], None, votes, settings)}
    results["both"] = finetune(results["pretrain"], votes, settings)
    if unanchored:
        results[UNANCHORED] = finetune(results["pretrain"], votes,
                                       replace(settings, anchor_weight=0.0), UNANCHORED)
    rows, per_emotion = [], {}
    val_votes = data.votes[data.votes["image"].isin(set(data.ids["binary"][votes.val]))]
    answers = first_votes(val_votes, data.ids["binary"][votes.val])[2]
    for recipe, result in results.items():
        pred_big, pred_bin = predict(result.heads, big.x[big.val]), \
            predict(result.heads, votes.x[votes.val])
        weak_metrics = per_emotion_metrics(pred_big, big.target[big.val])
        row = {"recipe": recipe, "seconds": round(result.seconds, 2),
               "epochs": int(result.history.groupby("stage")["epoch"].max().sum()),
               "weak_spearman": float(np.nanmean(weak_metrics["spearman"])),
               "vote_auc": vote_auc(pred_bin, val_votes, data.ids["binary"][votes.val])}
        row["vote_auc_se"] = auc_standard_error(row["vote_auc"], int(answers.sum()),
                                                int((~answers).sum()))
        if data.truth is not None:
            truth = np.concatenate([data.truth["big"][big.val], data.truth["binary"][votes.val]])
            metrics = per_emotion_metrics(np.concatenate([pred_big, pred_bin]), truth)
            row.update({"truth_spearman": float(np.nanmean(metrics["spearman"])),
                        "truth_mae": float(metrics["mae"].mean())})
        else:
            metrics = weak_metrics
        per_emotion[recipe] = metrics
        rows.append(row)
    return results, pd.DataFrame(rows), per_emotion


def _auc_move(before: float, after: float, se: float) -> str:
    """How the vote AUC moved, judged against one standard error ``se``."""
    if abs(after - before) <= se:
        return (f"moved the vote AUC from {before:.3f} to {after:.3f}, within one standard "
                f"error (about {se:.3f})")
    verb = "raised" if after > before else "lowered"
    return f"{verb} the vote AUC from {before:.3f} to {after:.3f} (standard error about {se:.3f})"


def ablation_summary(table: pd.DataFrame) -> str:
    """What the ablation table (:func:`ablation`) shows, in sentences written from its numbers:
    fine-tuning alone vs pre-training, what fine-tuning adds after pre-training (a vote AUC move
    counts when it exceeds one standard error), and what the anchor changes."""
    by = table.set_index("recipe")
    pre, fin, both = by.loc["pretrain"], by.loc["finetune"], by.loc["both"]
    truth = "truth_spearman" in by
    out = [f"Pre-training alone reaches a vote AUC of {pre.vote_auc:.3f}, fine-tuning alone "
           f"{fin.vote_auc:.3f}"
           + (f" (Spearman rho with the ground truth {pre.truth_spearman:.2f} and "
              f"{fin.truth_spearman:.2f})" if truth else "") + "."]
    se = float(by["vote_auc_se"].max())
    out.append(f"Fine-tuning after pre-training {_auc_move(pre.vote_auc, both.vote_auc, se)}"
               + (f", with the ground-truth rho going from {pre.truth_spearman:.2f} to "
                  f"{both.truth_spearman:.2f} and the mean absolute error from "
                  f"{pre.truth_mae:.2f} to {both.truth_mae:.2f}" if truth else "") + ".")
    if UNANCHORED in by.index:
        free = by.loc[UNANCHORED]
        out.append(f"Without the anchor the vote AUC is {free.vote_auc:.3f}"
                   + (f", the ground-truth rho {free.truth_spearman:.2f} and the mean absolute "
                      f"error {free.truth_mae:.2f}" if truth else "") + ".")
    return " ".join(out)


def full_roles(big_source: str, binary_source: str, hq_source: str) -> Roles:
    """The full profile's data: Big's weak labels, Binary's expert votes and the HQ images from
    the Hugging Face hub (or local parquet files in their schemas); no ground truth."""
    big_images, weak = load_hf_big(big_source)
    bin_images, bin_ids, votes = load_hf_binary(binary_source)
    hq_images, hq_ids = load_hf_hq(hq_source)
    ids = {"big": np.array([f"big-{i:06d}" for i in range(len(weak))]), "binary": bin_ids,
           "hq": hq_ids}
    images = {"big": big_images, "binary": bin_images, "hq": hq_images}
    return Roles(ids, images, weak, votes, None)


def load_hf_hq(source: str = "laion/emonet-face-hq") -> tuple[DatasetImages, np.ndarray]:
    """The HQ images (a lazy sequence of encoded images) and their ids: the ``path`` column, or
    the row number as ``00000`` when the dataset has none."""
    hq = _hf_dataset(source)
    ids = np.asarray(hq["path"] if "path" in hq.column_names else
                     [f"{i:05d}" for i in range(len(hq))]).astype(str)
    return DatasetImages(hq, source), ids
