package io.crmpi.chunks;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * How one file is put together from chunks: its size and its chunks in
 * order. Stored beside where the file would be, as {@code NAME.crmpi-chunks}
 * (binary: a magic, the size, the pack names, the chunks, and a CRC32C of
 * everything before it, so a torn or damaged recipe is refused as such
 * rather than read as wrong offsets).
 */
public record ChunkRecipe(long size, List<ChunkRef> chunks) {
  private static final byte[] MAGIC = "CRMPICH1".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_CHUNKS = 1 << 26;

  public ChunkRecipe {
    chunks = List.copyOf(chunks);
    long sum = 0;
    for (ChunkRef c : chunks) {
      sum += c.rawLength();
    }
    if (sum != size) {
      throw new IllegalArgumentException("the chunks add up to " + sum + " bytes, the file has " + size);
    }
  }

  /** The pack files this recipe reads. */
  public Set<String> packs() {
    Set<String> packs = new LinkedHashSet<>();
    chunks.forEach(c -> packs.add(c.pack()));
    return packs;
  }

  public byte[] encode() {
    Map<String, Integer> packIndex = new LinkedHashMap<>();
    chunks.forEach(c -> packIndex.putIfAbsent(c.pack(), packIndex.size()));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + chunks.size() * 57);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.write(MAGIC);
      out.writeLong(size);
      out.writeInt(packIndex.size());
      for (String p : packIndex.keySet()) {
        out.writeUTF(p);
      }
      out.writeInt(chunks.size());
      for (ChunkRef c : chunks) {
        out.write(c.id().toBytes());
        out.writeInt(packIndex.get(c.pack()));
        out.writeLong(c.offset());
        out.writeInt(c.storedLength());
        out.writeInt(c.rawLength());
        out.writeByte(c.compressed() ? 1 : 0);
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes.toByteArray());
      out.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new IllegalStateException(e); // in memory
    }
    return bytes.toByteArray();
  }

  /** Decodes a recipe; a damaged one is an IOException saying what is wrong. */
  public static ChunkRecipe decode(byte[] bytes) throws IOException {
    if (bytes.length < MAGIC.length + 8 + 4 + 4 + 4) {
      throw new IOException("chunk recipe too short (" + bytes.length + " bytes): torn or not a recipe");
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    if ((int) crc.getValue() != ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt()) {
      throw new IOException("chunk recipe damaged: its CRC32C does not match");
    }
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes, 0, bytes.length - 4))) {
      byte[] magic = in.readNBytes(MAGIC.length);
      if (!java.util.Arrays.equals(magic, MAGIC)) {
        throw new IOException("not a chunk recipe (unknown magic)");
      }
      long size = in.readLong();
      int packCount = in.readInt();
      if (packCount < 0 || packCount > MAX_CHUNKS) {
        throw new IOException("chunk recipe damaged: " + packCount + " packs");
      }
      List<String> packs = new ArrayList<>(packCount);
      for (int i = 0; i < packCount; i++) {
        packs.add(in.readUTF());
      }
      int count = in.readInt();
      if (count < 0 || count > MAX_CHUNKS) {
        throw new IOException("chunk recipe damaged: " + count + " chunks");
      }
      List<ChunkRef> chunks = new ArrayList<>(count);
      byte[] id = new byte[ChunkId.BYTES];
      for (int i = 0; i < count; i++) {
        in.readFully(id);
        int pack = in.readInt();
        if (pack < 0 || pack >= packs.size()) {
          throw new IOException("chunk recipe damaged: chunk " + i + " names pack " + pack);
        }
        chunks.add(new ChunkRef(ChunkId.fromBytes(id), packs.get(pack), in.readLong(), in.readInt(), in.readInt(),
            in.readByte() != 0));
      }
      if (in.available() != 0) {
        throw new IOException("chunk recipe damaged: " + in.available() + " bytes after its chunks");
      }
      return new ChunkRecipe(size, chunks);
    } catch (IllegalArgumentException | java.io.EOFException e) {
      throw new IOException("chunk recipe damaged: " + e.getMessage(), e);
    }
  }
}
