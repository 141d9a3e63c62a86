/** Licences and keys from the Go broker's tests and spec 3.3, shared by the security tests. */

import { ChannelKey } from '../../src/security/key.js';
import { Permission } from '../../src/security/permissions.js';

/** V1 licence (XTEA), contract 989603869, signature 0, written without its `:1` suffix. */
export const V1_LICENSE = 'zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAAAAAAAAAAAI';
/** V1 licence with an expiry (unix 1600000000), as Go's encode test writes it. */
export const V1_LICENSE_EXPIRING = 'zT83oDV0DWY5_JysbSTPTDr8KB0AAAAAFCDVAAAAAAI:1';
/** The 16-byte XTEA key of `V1_LICENSE`, as big-endian words. */
export const V1_XTEA_WORDS = [3443472288, 896798054, 972856492, 1831128908];

/** Keys of `V1_LICENSE`. */
export const V1_KEYS = {
  secret: 'kBCZch5re3Ue-kpG1Aa8Vo7BYvXZ3UwR',
  /** `a/b/c/` strict, rwslpe, never expires. */
  abcAll: 'k44Ss59ZSxg6Zyz39kLwN-2t5AETnGpm',
  /** `cluster/#/`, rwsl, expired in 2018. */
  cluster: '-ZgVnx1gr7BxxRCDsrEXBvmLVz86vGzs',
  /** Legacy (mask 0) key for `emitter`, rsp, expired. */
  legacy: '0TJnt4yZPL73zt35h1UTIFsYBLetyD_g',
  /** Legacy `a/b/c`, rw, expired. */
  legacyRw: 'xm54Sj0srWlSEctra-yU6ZA6Z2e6pp7c',
  legacySl: 'YXiszDIuAbkiyJfG-J1YpAwI0jUAbXW_',
  /** `a/b/c/`, rwslpex. */
  abcEverything: 'EbUlduEbUssgWueAWjkEZwdYG5YC0dGh',
  /** Extend keys from Go's keygen tests: `a/b/` strict (rle), `a/b/#/` (rle), and rle on another target. */
  extendAb: 'DKs-8DXiPnaQjHm0ZwZPOBji-HsIExCF',
  extendAbWildcard: 'Kz4-7tNTlL8BKpKM0s3qEGKv-r_OD37C',
  extendElsewhere: 'Oad-avDCDdC-qPHLOANcUrDXm5eIEBFp',
} as const;

/** V2 licence (XSalsa20) and its keys. */
export const V2_LICENSE =
  'RfBEIIFz1nNLf12JYRpoEUqFPLb3na0X_xbP_h3PM_CqDUVBGJfEV3WalW2maauQd48o-TcTM_61BfEsELfk0qMDqrCTswkB:2';
export const V2_KEYS = {
  secret: 'wnLJv3TMhYTg6lLkGfQoazo1-k7gjFPk',
  /** `a/b/c/` strict, rwslp. */
  abc: 'w07Jv3TMhYTg6lLk6fQoVG2KCe7gjFPk',
  /** `a/b/c/` strict, rwslpe. */
  abcExtend: '4kzJv3TMhYTg6lLk6fQoFG2KCe7gjFPk',
} as const;
/** Go's V2 parse test licence: contract 0x11248139, signature 0x10062b50. */
export const V2_LICENSE_GO_TEST =
  'RfBEIO9PA3cczC6bZQGnEeX8zbgKhm5Gw4ZlJSFJsaChuGStGCKNZ-8LTxKwiD7wK8EOAhrmleUY7PbLHrmCkokB0NaYgAEB:2';

/** V3 licence (Shuffle): contract 0x11248139, signature 0x10062b50, index 1. */
export const V3_LICENSE =
  'PfA8IPA43P8Jm4LfESjJYjzPIUG71uFkvKriYQjI4ZO2ABfHEBE36u13MmpHU5AumxGZKXG5gpKJAdDWmIABAQ:3';

/** The plaintext key of the cipher vectors: salt 999, master 2, contract 123, signature 777, rw, `a/b/c/`. */
export function vectorKey(salt = 999): ChannelKey {
  const key = new ChannelKey();
  key.salt = salt;
  key.masterId = 2;
  key.contract = 123;
  key.signature = 777;
  key.permissions = Permission.Read | Permission.Write;
  key.setTarget('a/b/c/');
  key.expires = 1497683272;
  return key;
}

/** `vectorKey()` under Shuffle with an all-zero key and salt. */
export const SHUFFLE_ZERO_VECTOR = 'A-dOBQDuXhqoFz-GZZdbpSFCtzmFl7Ng';
/** `vectorKey()` under XSalsa20 with an all-zero key and nonce. */
export const XSALSA20_ZERO_VECTOR = 'uYkm3UsuorRk0tBqliO18gs5xXmXioMF';
