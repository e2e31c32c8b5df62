# The README's two commands; their names are an interface (scripts and CI call them).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup bench

## set up, then run the product on http://127.0.0.1:8080 (Ctrl-C stops it)
run: setup
	cargo run --release -p berth-api --bin berth -- serve

## set up, then run every test: unit, API integration, browser (e2e)
test: setup
	scripts/test.sh

## install what is missing, start dockerd, build images and the web UI
setup:
	scripts/setup.sh

## benchmarks (printed figures and ratios, never assertions)
bench: setup
	cargo bench -p berth-api --bench launch
	cargo bench -p berth-api --bench folders
	cargo bench -p berth-api --bench apps
	cargo bench -p berth-api --bench list
	cargo bench -p berth-e2e --bench launcher
