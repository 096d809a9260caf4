# The two front-door commands: `make run` (stack + worker + demo traffic) and `make test` (the whole suite).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

VENV := .venv
BIN := $(VENV)/bin
# Debian packages the tests use as real peers: kcat (produces compressed records), docker-compose (validates
# docker-compose.yml without an engine), prometheus + prometheus-alertmanager (promtool, amtool and the
# real servers of the alerting tests), openssl (the throwaway CA and certificates of the TLS/auth tests).
DEB_PACKAGES := kcat docker-compose prometheus prometheus-alertmanager openssl

.PHONY: run test install system-deps stack lint down

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

system-deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

stack: install
	$(BIN)/logtrace dev up

lint: install
	$(BIN)/ruff check .

run: stack
	$(BIN)/logtrace setup
	bash devstack/run-demo.sh

# Under CI the stack starts empty: the dev node cannot delete data streams, so streams left by earlier
# runs on the same machine would pile up towards its shard limit.
test: install system-deps lint
	@if [ "$${CI:-}" = "true" ]; then $(BIN)/logtrace dev reset --yes; fi
	$(BIN)/logtrace dev up
	$(BIN)/pytest

down: install
	@pid=/var/tmp/logtrace-devstack/worker.pid; if [ -f $$pid ] && kill -0 $$(cat $$pid) 2>/dev/null; then \
	  kill $$(cat $$pid) && echo "worker stopped"; fi; rm -f $$pid
	$(BIN)/logtrace dev down
