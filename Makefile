# DL Studio. `make run` and `make test` do all the set-up on a fresh Debian machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-all lint prepare setup data browser checkpoints gpu-checkpoints bench clean i18n

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed data

# Ray for the cluster launcher's tests only (the app without DLSTUDIO_RAY_ADDRESS never imports it).
$(VENV)/.ray-installed: requirements-ray.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-ray.txt
	touch $@

# Fashion-MNIST from Debian's package when apt is there and we are root; else the app explains.
data:
	@bash scripts/get_data.sh

browser:
	@bash scripts/get_browser.sh

# The slow results a first click would wait for (nearest images, class maps): once, then cached.
prepare: setup
	$(PY) -m core.cli prepare

run: setup prepare
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.headless true

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

test: setup browser $(VENV)/.ray-installed lint
	$(PY) -m pytest -q

test-all: setup browser $(VENV)/.ray-installed
	$(PY) -m pytest -q -m "slow or not slow"

# The shipped checkpoints, each made by one CLI command (about 3.5 hours on a 2-core CPU, mostly ResNet and BigGAN).
checkpoints: setup
	$(PY) -m core.cli train softmax --preset recommended --export checkpoints/softmax.pt
	$(PY) -m core.cli train mlp --preset recommended --export checkpoints/mlp.pt
	$(PY) -m core.cli train cnn --preset shipped --export checkpoints/cnn.pt
	$(PY) -m core.cli train resnet --preset recommended --export checkpoints/resnet.pt
	$(PY) -m core.cli train gan --epochs 100 --generator_ema 0.999 --keep_best 1 --export checkpoints/gan.pt
	$(PY) -m core.cli train dcgan --epochs 30 --spectral_norm true --learning_rate_g 0.001 --keep_best 1 --export checkpoints/dcgan.pt
	$(PY) -m core.cli train infogan --epochs 8 --export checkpoints/infogan.pt
	$(PY) -m core.cli train began --preset more --epochs 4 --keep_best 1 --export checkpoints/began.pt
	$(PY) -m core.cli train biggan --epochs 40 --discriminator_steps 1 --learning_rate_d 0.0004 --learning_rate_g 0.0001 --log_every_steps 100 --time_budget_s 6600 --keep_best 3 --export checkpoints/biggan.pt
	@# every GAN's page figures (D's score histogram, BigGAN's truncation curve, StyleGAN's measures)
	for gan in gan dcgan infogan began sagan biggan stylegan; do \
		$(PY) -m core.cli evaluate checkpoints/$$gan.pt --store || exit 1; done
	$(PY) -m core.cli train lm --corpus tang-poems --cell gru --hidden_size 256 --embedding_size 64 --seq_len 32 --batch_size 32 --epochs 10 --dropout 0.4 --learning_rate 0.003 --lr_schedule cosine --export checkpoints/lm-tang-poems.pt
	$(PY) -m core.cli train lm --corpus zh-prose --cell gru --hidden_size 512 --embedding_size 256 --seq_len 64 --epochs 4 --dropout 0.2 --lr_schedule cosine --export checkpoints/lm-zh-prose.pt
	$(PY) -m core.cli train lm --corpus en-fortunes --cell gru --hidden_size 512 --seq_len 100 --epochs 8 --dropout 0.1 --lr_schedule cosine --export checkpoints/lm-en-fortunes.pt

# The GPU rows of the README's table, side by side on one GPU (about 6 minutes on an H200).
gpu-checkpoints: setup
	OUT=checkpoints PY=$(PY) bash scripts/train_on_gpu.sh

# The languages (docs/i18n.md): extract every marked message, merge it into each catalog, compile.
# The compiled .mo files are committed, so a fresh clone speaks Chinese without this step.
I18N_KEYWORDS := -k N_ -k ngettext:1,2 -k param:2
i18n: setup
	$(PY) scripts/i18n_fields.py
	$(VENV)/bin/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --sort-output \
		--project "DL Studio" -o core/locale/dlstudio.pot .
	@# Every message is str.format-style: Babel's guess of a %-format from a "5%" in a text is wrong
	sed -i -e '/^#, python-format$$/d' -e 's/, python-format$$//' core/locale/dlstudio.pot
	$(VENV)/bin/pybabel update -i core/locale/dlstudio.pot -d core/locale -D dlstudio \
		--no-fuzzy-matching --ignore-obsolete
	$(PY) scripts/i18n_compile.py

bench: setup
	$(PY) bench/classifiers.py
	$(PY) bench/gans.py
	$(PY) bench/infogan_began.py
	$(PY) bench/lm.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache
