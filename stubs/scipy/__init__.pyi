# Partial stubs: what relay/growth/ab.py uses of SciPy.
