"""Java serialization of a HashMap<byte[], byte[]>: the file format of Kafka's FileOffsetBackingStore.

Kafka writes `offset.storage.file.filename` with ObjectOutputStream.writeObject(HashMap<byte[], byte[]>), so a
standalone worker's offsets move between Kafka and Brook only if Brook reads and writes that exact stream. Only
the subset that such a map produces is understood (HashMap, byte arrays, null, back-references).
"""

from __future__ import annotations

import struct

MAGIC = b"\xac\xed\x00\x05"
TC_NULL, TC_REFERENCE, TC_CLASSDESC, TC_OBJECT, TC_ARRAY, TC_BLOCKDATA, TC_ENDBLOCKDATA = (
    0x70, 0x71, 0x72, 0x73, 0x75, 0x77, 0x78)
BASE_HANDLE = 0x7E0000
HASHMAP_UID = 0x0507DAC1C31660D1
BYTE_ARRAY_UID = -0x530CE807F9F7AB20  # [B's serialVersionUID, 0xACF317F8060854E0 as a signed long
SC_WRITE_METHOD, SC_SERIALIZABLE = 0x01, 0x02


def _utf(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">H", len(b)) + b


def dump_map(data: dict[bytes | None, bytes | None]) -> bytes:
    """ObjectOutputStream.writeObject(new HashMap<>(data)), byte for byte as Java writes it."""
    capacity = 16
    while len(data) > capacity * 0.75:
        capacity *= 2
    out = bytearray(MAGIC)
    out += bytes([TC_OBJECT, TC_CLASSDESC]) + _utf("java.util.HashMap") + struct.pack(">q", HASHMAP_UID)
    out += bytes([SC_WRITE_METHOD | SC_SERIALIZABLE]) + struct.pack(">H", 2)
    out += b"F" + _utf("loadFactor") + b"I" + _utf("threshold")
    out += bytes([TC_ENDBLOCKDATA, TC_NULL])  # no class annotations, no serializable superclass
    # handles: 0 = HashMap's class descriptor, 1 = the map; then [B's descriptor and each array in order
    # a HashMap that never held an entry has no table yet: threshold 0 (HashMap.writeObject)
    out += struct.pack(">fi", 0.75, int(capacity * 0.75) if data else 0)
    out += bytes([TC_BLOCKDATA, 8]) + struct.pack(">ii", capacity, len(data))
    handle = 2
    array_desc: int | None = None

    def write_array(b: bytes | None) -> None:
        nonlocal handle, array_desc
        if b is None:
            out.append(TC_NULL)
            return
        out.append(TC_ARRAY)
        if array_desc is None:
            out.extend(bytes([TC_CLASSDESC]) + _utf("[B") + struct.pack(">q", BYTE_ARRAY_UID))
            out.extend(bytes([SC_SERIALIZABLE]) + struct.pack(">H", 0) + bytes([TC_ENDBLOCKDATA, TC_NULL]))
            array_desc = handle
            handle += 1
        else:
            out.extend(bytes([TC_REFERENCE]) + struct.pack(">I", BASE_HANDLE + array_desc))
        handle += 1
        out.extend(struct.pack(">i", len(b)) + b)

    for k, v in data.items():
        write_array(k)
        write_array(v)
    out.append(TC_ENDBLOCKDATA)
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0
        self.handles: list[object] = []

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("truncated Java serialization stream")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def utf(self) -> str:
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n).decode()

    def class_desc(self) -> dict:
        tc = self.u8()
        if tc == TC_NULL:
            return {}
        if tc == TC_REFERENCE:
            (h,) = struct.unpack(">I", self.take(4))
            return self.handles[h - BASE_HANDLE]
        if tc != TC_CLASSDESC:
            raise ValueError(f"unexpected type code 0x{tc:02x} for a class descriptor")
        desc: dict = {"name": self.utf()}
        self.take(8)
        self.handles.append(desc)
        desc["flags"] = self.u8()
        (nfields,) = struct.unpack(">H", self.take(2))
        fields = []
        for _ in range(nfields):
            code = chr(self.u8())
            name = self.utf()
            if code in "L[":
                self.content()  # the field's class name string
            fields.append((code, name))
        desc["fields"] = fields
        if self.u8() != TC_ENDBLOCKDATA:
            raise ValueError("class annotations are not supported")
        desc["super"] = self.class_desc()
        return desc

    def content(self) -> object:
        tc = self.u8()
        if tc == TC_NULL:
            return None
        if tc == TC_REFERENCE:
            (h,) = struct.unpack(">I", self.take(4))
            return self.handles[h - BASE_HANDLE]
        if tc == 0x74:  # TC_STRING
            s = self.utf()
            self.handles.append(s)
            return s
        if tc == TC_ARRAY:
            desc = self.class_desc()
            if desc.get("name") != "[B":
                raise ValueError(f"unsupported array type {desc.get('name')}")
            (n,) = struct.unpack(">i", self.take(4))
            self.handles.append(None)
            arr = self.take(n)
            self.handles[-1] = arr
            return arr
        if tc == TC_OBJECT:
            desc = self.class_desc()
            if desc.get("name") != "java.util.HashMap":
                raise ValueError(f"Expected HashMap but found {desc.get('name')}")
            self.handles.append({})
            self.take(8)  # loadFactor, threshold
            if self.u8() != TC_BLOCKDATA or self.u8() != 8:
                raise ValueError("malformed HashMap block data")
            _, size = struct.unpack(">ii", self.take(8))
            out: dict = {}
            for _ in range(size):
                k = self.content()
                out[k] = self.content()
            if self.u8() != TC_ENDBLOCKDATA:
                raise ValueError("malformed HashMap end")
            return out
        raise ValueError(f"unsupported type code 0x{tc:02x}")


def load_map(data: bytes) -> dict[bytes | None, bytes | None]:
    """The HashMap<byte[], byte[]> that dump_map (or Kafka's FileOffsetBackingStore) wrote."""
    r = _Reader(data)
    if r.take(4) != MAGIC:
        raise ValueError("not a Java serialization stream")
    obj = r.content()
    if not isinstance(obj, dict):
        raise ValueError(f"Expected HashMap but found {type(obj).__name__}")
    return obj
