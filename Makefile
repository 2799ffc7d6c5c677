# Every target bootstraps itself: a fresh clone needs nothing but python3 and make.
.PHONY: run test lint bench package clean

run:
	scripts/run.sh

test:
	scripts/test.sh

lint:
	scripts/bootstrap.sh --dev
	.venv/bin/ruff check . && .venv/bin/mypy && .venv/bin/lint-imports

bench:
	scripts/bootstrap.sh --dev
	.venv/bin/python -m benchmarks

# the one-folder build, its .tar.gz and a .deb in dist/ (packaging/README.md)
package:
	packaging/build.sh

clean:
	rm -rf .venv build dist *.egg-info .mypy_cache .ruff_cache .pytest_cache
