package io.crmpi.chunks;

import java.util.Objects;

/**
 * Where one chunk's bytes are: a range of a pack file.
 *
 * @param id the SHA-256 of the chunk's uncompressed bytes
 * @param pack the pack file's name in the store's packs directory
 * @param offset where the chunk's stored bytes begin in the pack
 * @param storedLength how many bytes the pack holds for it
 * @param rawLength how many bytes the chunk has uncompressed
 * @param compressed whether the stored bytes are a zstd frame (else they
 *     are the raw bytes, and storedLength equals rawLength)
 */
public record ChunkRef(ChunkId id, String pack, long offset, int storedLength, int rawLength, boolean compressed) {
  public ChunkRef {
    Objects.requireNonNull(id, "id");
    PackName.check(pack);
    if (offset < 0 || storedLength <= 0 || rawLength <= 0 || rawLength > PageChunker.MAX_BYTES) {
      throw new IllegalArgumentException("chunk " + id + " in " + pack + ": offset " + offset + ", stored "
          + storedLength + ", raw " + rawLength + " out of range");
    }
    if (!compressed && storedLength != rawLength) {
      throw new IllegalArgumentException("chunk " + id + " in " + pack + ": stored uncompressed, but "
          + storedLength + " bytes stored for " + rawLength);
    }
  }
}
