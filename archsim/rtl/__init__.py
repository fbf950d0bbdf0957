"""RTL co-verification: the blocks in rtl/, their stimulus suites, and the cocotb runner.

Nothing here imports cocotb at import time; :func:`archsim.rtl.runner.run_block` imports
``cocotb_tools`` when it runs a simulator. See rtl/README.md for the conventions.
"""
