# Shortcuts for the README's commands (the scripts need nothing but bash).
.PHONY: demo test setup bench
demo:
	scripts/demo.sh
test:
	scripts/test.sh
setup:
	scripts/setup.sh --test --bench
bench:
	scripts/bench.sh
