#!/usr/bin/env python3
"""Write the input streams of this directory (the cases of issue 12; see README.md).
Usage: python3 gen_inputs.py [OUTDIR]   (reproduces the *.d2? and *.d3? inputs byte for byte)
"""
import datetime, os, struct, sys, zlib

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
EPOCH2000 = datetime.datetime(2000, 1, 1)
T0 = datetime.datetime(2024, 1, 1)


def hdr22(pid, xml):
    b = xml.encode()
    return ('[%s]%06d' % (pid, len(b))).encode() + b


def tag3(t, pid, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return ('|%s|%s|%d|' % (t, pid, len(payload))).encode() + payload


def us2000(t):
    return (t - EPOCH2000).total_seconds() * 1e6


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d' % (t.microsecond // 1000)


def write(name, data):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(data)


STREAM22 = '<stream version="2.2"><properties String:title="%s" /></stream>\n'
STREAM3 = '\n<stream type="das-basic-stream" version="3.0">\n  <properties>\n    <p name="title">%s</p>\n  </properties>\n</stream>\n'
SCALAR22 = '<packet>\n  <x type="time24" units="us2000"></x>\n  <y type="ascii10" name="v" units="nT"></y>\n</packet>\n'


def text22(title, rows):
    """A das2.2 text stream of time24 + ascii10 records (second offset, value text)."""
    out = hdr22('00', STREAM22 % title) + hdr22('01', SCALAR22)
    for sec, val in rows:
        out += (':01:' + iso(T0 + datetime.timedelta(seconds=sec)) + ' ' + '%9s\n' % val).encode()
    return out


# Finding 2: das3 dimensions without names (the schema allows omitting them).
def unnamed(data_name=''):
    out = tag3('Sx', '', STREAM3 % 'unnamed dimensions')
    out += tag3('Hx', '1', '''
<dataset name="spec" rank="2" index="*;3">
  <coord physDim="time" axis="x">
    <scalar use="center" semantic="datetime" storage="struct" index="*;-" units="UTC">
      <packet numItems="1" itemBytes="24" encoding="utf8" />
    </scalar>
  </coord>
  <coord physDim="" axis="y">
    <scalar use="center" semantic="real" storage="double" index="-;3" units="Hz">
      <values>10 20 40</values>
    </scalar>
  </coord>
  <data physDim=""%s>
    <scalar use="center" semantic="real" storage="double" index="*;3" units="V**2 m**-2 Hz**-1">
      <packet numItems="3" itemBytes="10" encoding="utf8" fill="-1.0e+31" />
    </scalar>
  </data>
</dataset>
''' % data_name)
    for r in range(3):
        vals = ''.join('%10s' % ('%.2e' % (1.5e-9 * (r + 1) * (c + 1))) for c in range(3))
        out += tag3('Pd', '1', iso(T0 + datetime.timedelta(seconds=60 * r)) + ' ' + vals[1:] + '\n')
    return out


# Finding 1: what the das2 text writer wrote for d22_time_encodings.d2s before
# the fix: [03] and [04] with equal descriptors, which das2C refuses.
def dup_descriptors():
    p = '<packet>\n  <x type="time24" units="us2000" />\n  <y type="ascii14" name="v" units="" />\n</packet>\n'
    out = hdr22('00', STREAM22 % 'time encodings') + hdr22('03', p) + hdr22('04', p)
    out += b':03:2024-01-01T00:01:00.000  3.000000e+00\n:04:2024-01-01T00:01:00.000  4.000000e+00\n'
    return out


# Finding 2: an empty dimension name, which both das3 schemas refuse.
def empty_name():
    return unnamed(' name=""')


# Finding 3: 240,008-byte records: a 60,000-item little-endian real4 yscan.
N3 = 60000


def large_yscan():
    out = hdr22('00', STREAM22 % '60000-item spectra')
    out += hdr22('01', '<packet>\n  <x type="little_endian_real8" units="us2000"></x>\n'
                 '  <yscan type="little_endian_real4" name="spec" nitems="%d" yUnits="Hz" '
                 'zUnits="V**2 m**-2 Hz**-1" yTagInterval="0.5" yTagMin="10"></yscan>\n</packet>\n' % N3)
    for r in range(2):
        vals = struct.pack('<%df' % N3, *[float((i * 7 + r) % 1000) / 8 for i in range(N3)])
        out += b':01:' + struct.pack('<d', us2000(T0 + datetime.timedelta(seconds=r))) + vals
    return out


# Finding 5: records before --begin 2024-01-01T00:01, and time going backwards.
def reduce_origin():
    return text22('bin origin', [(5, '1.000e+00'), (50, '2.000e+00'), (70, '3.000e+00'),
                                 (130, '4.000e+00'), (10, '5.000e+00'), (15, '6.000e+00')])


# Finding 7: NaN in text (both spellings) and in binary, and an unparseable value.
def nan():
    out = text22('NaN values', [(0, '1.000e+00'), (10, '      NaN'), (20, '3.000e+00'),
                                (70, '      nan'), (80, '      NaN')])
    return out


def garbage():
    return text22('garbage value', [(0, '1.000e+00'), (10, '      abc'), (20, '3.000e+00')])


def nan_binary():
    out = hdr22('00', STREAM22 % 'NaN values, binary')
    out += hdr22('01', '<packet>\n  <x type="little_endian_real8" units="us2000"></x>\n'
                 '  <y type="little_endian_real4" name="v" units="nT"></y>\n</packet>\n')
    for sec, v in [(0, 1.0), (10, float('nan')), (20, 3.0), (70, float('nan'))]:
        out += b':01:' + struct.pack('<d', us2000(T0 + datetime.timedelta(seconds=sec))) + struct.pack('<f', v)
    return out


# Finding 8: variable-length text items and <vector>.
VEC_DS = '''
<dataset name="efield" rank="1" index="*">
  <coord physDim="time" name="time" axis="x">
    <scalar use="center" semantic="datetime" storage="struct" index="*" units="UTC">
      <packet numItems="1" itemBytes="%s" encoding="utf8" />
    </scalar>
  </coord>
  <data physDim="E" name="E">
    <properties>
      <p name="label">E field</p>
    </properties>
    <vector use="center" semantic="real" storage="double" index="*" units="V/m" components="3" system="cartesian" sysorder="0;1;2">
      <packet numItems="3" itemBytes="*" encoding="utf8"%s fill="-1e31" />
    </vector>
  </data>
  <data physDim="state" name="gain">
    <scalar use="center" semantic="real" storage="float" index="*" units="dB">
      <packet numItems="1" itemBytes="5" encoding="utf8" fill="-1e31" />
    </scalar>
  </data>
</dataset>
'''
VEC_ROWS = [('-15.43', '-2.776', '-0.9903', 0), ('-15.34', '-2.642', '-0.9616', 20),
            ('-15.5', '2', '1e-3', 20)]


def var_items():
    """Whitespace-separated variable-length items, a fixed field after them."""
    out = tag3('Sx', '', STREAM3 % 'variable-length items')
    out += tag3('Hx', '1', VEC_DS % ('24', ''))
    for i, (x, y, z, g) in enumerate(VEC_ROWS):
        t = iso(T0 + datetime.timedelta(milliseconds=8 * i))
        out += tag3('Pd', '1', '%s %s  %s %s %4d\n' % (t, x, y, z, g))
    return out


def var_term():
    """valTerm=";" items, one of them empty (fill), and a variable-length time."""
    out = tag3('Sx', '', STREAM3 % 'terminated items')
    out += tag3('Hx', '1', VEC_DS % ('*', ' valTerm=";"'))
    rows = [('-15.43', '-2.776', '-0.9903', 0), ('-15.34', '', '-0.9616', 20)]
    for i, (x, y, z, g) in enumerate(rows):
        t = iso(T0 + datetime.timedelta(seconds=i))
        out += tag3('Pd', '1', '%s %s ; %s ; %s ;%4d\n' % (t, x, y, z, g))
    return out


def vector_bin():
    """A binary cylindrical vector in a named frame."""
    out = tag3('Sx', '', '''
<stream type="das-basic-stream" version="3.0">
  <properties>
    <p name="title">binary vector</p>
  </properties>
  <frame name="SC" body="Earth" />
</stream>
''')
    out += tag3('Hx', '2', '''
<dataset name="b" rank="1" index="*">
  <coord physDim="time" name="time" axis="x">
    <scalar use="center" semantic="datetime" storage="double" index="*" units="us2000">
      <packet numItems="1" itemBytes="8" encoding="LEreal" />
    </scalar>
  </coord>
  <data physDim="magnetic_field" name="B" frame="SC">
    <vector use="center" semantic="real" storage="float" index="*" units="nT" components="3" system="cylindrical" sysorder="2;0;1">
      <packet numItems="3" itemBytes="4" encoding="BEreal" fill="-1.0e+31" />
    </vector>
  </data>
</dataset>
''')
    for r in range(3):
        out += tag3('Pd', '2', struct.pack('<d', us2000(T0 + datetime.timedelta(seconds=r))) +
                    struct.pack('>3f', 1.5 + r, -2.25 * r, 100 + r))
    return out


# Finding 8 too: compression="deflate" (das2C reads it).
def deflate():
    body = hdr22('01', SCALAR22)
    for i in range(3):
        body += (':01:' + iso(T0 + datetime.timedelta(seconds=i)) + ' ' + '%9.3e\n' % (1.5 + i)).encode()
    head = hdr22('00', '<stream version="2.2" compression="deflate"><properties String:title="compressed" /></stream>\n')
    return head + zlib.compress(body)


for name, fn in [('dup_descriptors.d2t', dup_descriptors), ('empty_name.d3t', empty_name), ('unnamed.d3t', unnamed), ('large_yscan.d2s', large_yscan),
                 ('reduce_origin.d2t', reduce_origin), ('nan.d2t', nan), ('nan_binary.d2s', nan_binary),
                 ('garbage.d2t', garbage), ('var_items.d3t', var_items), ('var_term.d3t', var_term),
                 ('vector.d3b', vector_bin), ('deflate.d2s', deflate)]:
    write(name, fn())
