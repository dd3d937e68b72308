"""The sensor side: I2C bus and multiplexer, chip drivers, emulated chips, scan and acquisition."""
