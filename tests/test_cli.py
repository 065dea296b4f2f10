import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "DLSTUDIO_DATASET": "synthetic"}, timeout=300)


def test_train_then_evaluate_prints_name_value_lines(tmp_path):
    exported = tmp_path / "cnn.pt"
    result = cli("train", "cnn", "--epochs", "1", "--batch_size", "32", "--conv1_channels", "4",
                 "--conv2_channels", "8", "--export", str(exported))
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("accuracy/test=") for line in result.stdout.splitlines())
    evaluated = cli("evaluate", str(exported))
    assert evaluated.returncode == 0, evaluated.stderr
    metrics = dict(line.split("=") for line in evaluated.stdout.split())
    assert 0.0 <= float(metrics["accuracy/test"]) <= 1.0 and "accuracy/class/trouser" in metrics


def test_presets_by_first_word():
    result = cli("train", "softmax", "--preset", "recommended", "--epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "'momentum': 0.9" in result.stdout


def one_line_error(result, words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


@pytest.mark.slow   # 40 s; test_bad_inputs checks ten bad command lines in the default suite
def test_bad_command_lines_fail_with_one_clear_line(tmp_path):
    one_line_error(cli("train", "vgg"), "unknown model 'vgg'")
    one_line_error(cli("train", "cnn", "--colour", "red"), "unrecognized arguments: --colour")
    one_line_error(cli("train", "cnn", "--learning_rate", "0"), "learning_rate must be > 0")
    one_line_error(cli("train", "cnn", "--learning_rate", "-0.1"), "learning_rate must be > 0")
    one_line_error(cli("train", "cnn", "--batch_size", "0"), "batch_size must be >= 1")
    one_line_error(cli("train", "cnn", "--epochs", "many"), "epochs: expected int")
    (tmp_path / "junk.pt").write_text("not a checkpoint")
    one_line_error(cli("evaluate", str(tmp_path / "junk.pt")), "not a checkpoint")


def test_language_model_train_and_evaluate(tmp_path):
    exported = tmp_path / "lm.pt"
    result = cli("train", "lm", "--corpus", "en-fortunes", "--hidden_size", "32", "--seq_len", "32",
                 "--epochs", "1", "--export", str(exported))
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("perplexity/val=") for line in result.stdout.splitlines())
    metrics = dict(line.split("=") for line in cli("evaluate", str(exported)).stdout.split())
    assert float(metrics["perplexity/val"]) > 1
    assert float(metrics["ngram/best"]) <= float(metrics["ngram/kneser-ney/n1"])


def test_language_model_unknown_corpus_is_one_line():
    result = cli("train", "lm", "--corpus", "klingon")
    assert result.returncode == 2 and "unknown corpus" in result.stderr


@pytest.mark.slow   # 50 s: three epochs scored
def test_keep_best_exports_the_best_scored_epoch_not_the_last(tmp_path):
    from core import checkpoints
    exported = tmp_path / "gan.pt"
    result = cli("train", "gan", "--epochs", "3", "--batch_size", "50", "--generator_scale", "0.125",
                 "--keep_best", "1", "--export", str(exported))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    scored = [line for line in lines if " selection: classes=" in line]
    assert [line.split()[1] for line in scored] == ["1", "2", "3"]
    kept = int(next(line for line in lines if line.startswith("kept epoch")).split()[2])
    scores = {int(line.split()[1]): (float(line.split("classes=")[1].split()[0]),
                                     -float(line.split("frechet_distance/train=")[1].split()[0]))
              for line in scored}
    assert kept == max(scores, key=lambda epoch: (scores[epoch], -epoch))   # first of the best
    steps_per_epoch = 200 // 50
    assert checkpoints.load(exported)["step"] == kept * steps_per_epoch
    one_line_error(cli("train", "gan", "--keep_best", "-1"), "--keep_best must be 0")
    one_line_error(cli("train", "cnn", "--keep_best", "1"), "unrecognized arguments: --keep_best")
