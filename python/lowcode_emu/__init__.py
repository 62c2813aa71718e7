"""lowcode-emu for Python: start the emulator, drive its admin API, and (as a pytest plugin) give every
test a namespace of its own. The binary itself ships in the same wheel."""
from .client import Client, Clock, EmulatorError
from .process import Emulator, StartError, binary_path, start

__all__ = ["Client", "Clock", "Emulator", "EmulatorError", "StartError", "binary_path", "start"]
