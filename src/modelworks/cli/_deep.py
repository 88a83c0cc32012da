"""``modelworks deep transfer``: transfer learning on a folder of images."""

from __future__ import annotations

import argparse

from modelworks.cli._common import (
    add_json,
    add_out,
    finish,
    info,
    non_negative_int,
    positive_float,
    positive_int,
)


def _fraction(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value!r}") from None
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {value}")
    return x


def register(sub: argparse._SubParsersAction) -> None:
    deep = sub.add_parser("deep", help="deep learning: transfer learning on images (Keras 3, PyTorch)",
                          description="Deep-learning commands on Keras 3 with the PyTorch backend.")
    deep_sub = deep.add_subparsers(dest="deep_command", metavar="COMMAND")
    deep.set_defaults(handler=lambda args: (deep.print_help(), 0)[1])

    p = deep_sub.add_parser(
        "transfer", help="train a new head on a pretrained base, then fine-tune its top layers",
        description="Read IMAGE_DIR (one sub-folder of images per class), put a new classification "
        "head on a pretrained base with the base frozen, then optionally unfreeze its top N layers "
        "and fine-tune with a lower learning rate. Writes DIR/model.keras, DIR/plots/"
        "training_curves.png, DIR/plots/confusion_matrix.png, DIR/result.json and DIR/report.html.")
    p.add_argument("image_dir", metavar="IMAGE_DIR", help="folder with one sub-folder of images per class")
    p.add_argument("--base", required=True, metavar="PATH_OR_NAME",
                   help="a local .keras model file, or a keras.applications name such as VGG16, "
                   "ResNet50, MobileNetV2 (downloads ImageNet weights: needs a network)")
    p.add_argument("--epochs", type=positive_int, default=10, metavar="N",
                   help="epochs training the head with the base frozen (default: 10)")
    p.add_argument("--fine-tune-layers", type=non_negative_int, default=0, metavar="N",
                   help="then unfreeze the top N layers with weights and fine-tune (default: 0, no fine-tuning)")
    p.add_argument("--fine-tune-epochs", type=positive_int, metavar="N",
                   help="epochs of fine-tuning (default: --epochs)")
    p.add_argument("--learning-rate", type=positive_float, default=1e-3, metavar="LR",
                   help="Adam learning rate of the head phase (default: 0.001; fine-tuning uses a tenth)")
    p.add_argument("--batch-size", type=positive_int, default=32, metavar="N")
    p.add_argument("--image-size", type=positive_int, metavar="PIXELS",
                   help="square image size for a keras.applications base (default: its own, e.g. 224)")
    p.add_argument("--validation-split", type=_fraction, default=0.2, metavar="F",
                   help="share of images held out for early stopping and evaluation (default: 0.2)")
    p.add_argument("--head", choices=["dense", "linear"], default="dense",
                   help="dense: pooling, Dense(128, relu), Dropout, softmax (default); linear: pooling, softmax")
    p.add_argument("--patience", type=positive_int, default=3, metavar="N",
                   help="early-stopping patience in epochs (default: 3)")
    p.add_argument("--class-weight", choices=["balanced"], help="weight classes inversely to their frequency")
    p.add_argument("--seed", type=int, default=0)
    add_out(p, "modelworks-deep", "the model, plots, result.json and report.html")
    add_json(p)
    p.set_defaults(handler=_transfer)


def _epoch_line(row: dict) -> None:
    metrics = "  ".join(f"{k}={row[k]:.4f}" for k in ("loss", "accuracy", "val_loss", "val_accuracy")
                        if k in row)
    info(f"[{row['phase']}] epoch {row['epoch']}/{row['epochs']}  {metrics}")


def _transfer(args) -> int:
    from modelworks import _progress
    from modelworks.deep import transfer_job

    info(f"transfer learning on {args.image_dir} from base {args.base} -> {args.out}/")
    result = transfer_job(
        args.base, args.image_dir, epochs=args.epochs, fine_tune_layers=args.fine_tune_layers,
        fine_tune_epochs=args.fine_tune_epochs, learning_rate=args.learning_rate,
        batch_size=args.batch_size, image_size=args.image_size,
        validation_split=args.validation_split, head=args.head, patience=args.patience,
        class_weight=args.class_weight, seed=args.seed,
        on_epoch=None if _progress.enabled() else _epoch_line, progress=True)
    return finish(args, result)
