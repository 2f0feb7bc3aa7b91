# lit configuration for gops: every .gops (and .test) file under tests/lit carries
# its own RUN and CHECK lines. Substitutions:
#   %gops        the gops binary under test
#   %examples    the repository's examples/ directory
#   FileCheck, not, split-file from LLVM 14
import os
import lit.formats

config.name = "gops"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".gops", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.gops_obj_root, "tests", "lit")

config.substitutions.append(("%gops", config.gops_bin))
config.substitutions.append(("%examples", os.path.join(config.gops_src_root, "examples")))
config.environment["PATH"] = os.pathsep.join([config.llvm_bin, config.environment.get("PATH", os.environ["PATH"])])
config.environment["NO_COLOR"] = "1"
config.environment["GOPS_STDLIB"] = os.path.join(config.gops_src_root, "stdlib")
