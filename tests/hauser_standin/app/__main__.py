"""The stand-in's entry point: hauser's main (standin/main.py)."""

import sys
import zipimport

# zipimport compiles a module's source twice, once to tell its file name and once to run it
# (Python 3.11 to 3.13 alike). The stand-in's modules are all source: remembering each compile
# halves the compiling it does at start, when 500 stand-ins may start at once on 2 cores.
_GET_MODULE_CODE = getattr(zipimport, "_get_module_code", None)
_COMPILED = {}


def _get_module_code_once(importer, fullname, *rest):
    key = (getattr(importer, "archive", None), getattr(importer, "prefix", None), fullname, rest)
    if key not in _COMPILED:
        _COMPILED[key] = _GET_MODULE_CODE(importer, fullname, *rest)
    return _COMPILED[key]


if _GET_MODULE_CODE is not None:
    zipimport._get_module_code = _get_module_code_once  # pylint: disable=protected-access

from standin.main import main  # noqa: E402  pylint: disable=wrong-import-position

sys.exit(main(sys.argv))
