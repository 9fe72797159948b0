"""The one compiled part: the bulk import's reader of JSONL statements (analytics/services/
_xapi_scan.c). Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("analytics.services._xapi_scan", ["analytics/services/_xapi_scan.c"],
                             extra_compile_args=["-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra"])])
