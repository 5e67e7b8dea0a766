#!/usr/bin/env python3
# Writes a C file defining a NUL-terminated byte array with a file's contents,
# and its length without the NUL: meson's way to compile a file in.
import sys

src, out, name = sys.argv[1:4]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* Generated from %s: do not edit. */\n#include <stddef.h>\n' % src.split('/')[-1])
    f.write('const char %s[] = {\n' % name)
    for i in range(0, len(data), 16):
        f.write('        ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    f.write('        0x00\n};\n')
    f.write('const size_t %s_len = %d;\n' % (name, len(data)))
