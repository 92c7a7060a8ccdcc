import Foundation

/// CRC-32C, the Castagnoli checksum (reflected polynomial 0x82F63B78), and the masked form
/// TFRecord files store: TensorBoard event files frame every record with two of them, one over
/// the length and one over the data, so that a torn or corrupted record is noticed.
public enum CRC32C {
    /// The checksum of `bytes` (`"123456789"` → 0xE3069283).
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    /// TFRecord's masked checksum: rotated right by 15 bits and offset, because a CRC over data
    /// that itself holds CRCs is weak.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    /// `masked(checksum(bytes))`.
    public static func maskedChecksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        masked(checksum(bytes))
    }

    /// The remainder of every byte value, one byte at a time.
    private static let table: [UInt32] = (0..<256).map { index in
        var remainder = UInt32(index)
        for _ in 0..<8 {
            remainder = remainder & 1 == 1 ? (remainder >> 1) ^ 0x82F6_3B78 : remainder >> 1
        }
        return remainder
    }
}
