import pytest

from core.config import ConfigError, from_dict
from core.models.cnn import CNNConfig


def test_defaults_are_the_tutorials():
    config = CNNConfig()
    assert (config.learning_rate, config.batch_size, config.epochs, config.optimizer) == (1e-3, 100, 2, "adam")
    assert (config.conv1_channels, config.conv2_channels, config.kernel_size) == (16, 32, 5)


@pytest.mark.parametrize("values, words", [
    ({"learning_rate": 0}, "learning_rate must be > 0"),
    ({"learning_rate": -1}, "learning_rate must be > 0"),
    ({"batch_size": 0}, "batch_size must be >= 1"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of"),
    ({"kernel_size": 4}, "kernel_size must be one of"),
    ({"epochs": "two"}, "epochs: expected int"),
    ({"learning_rate": float("nan")}, "must be a number"),
    ({"bogus": 1}, "unknown setting"),
])
def test_bad_values_give_one_clear_line(values, words):
    with pytest.raises(ConfigError) as error:
        from_dict(CNNConfig, values)
    assert words in str(error.value) and "\n" not in str(error.value)


def test_strings_are_coerced():
    config = from_dict(CNNConfig, {"learning_rate": "0.01", "epochs": "3", "augment": "true"})
    assert config.learning_rate == 0.01 and config.epochs == 3 and config.augment is True
