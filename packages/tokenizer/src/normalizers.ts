import type { FieldReader } from './json-fields.ts';

export type Normalize = (text: string) => string;

const UNICODE_FORMS = { NFC: 'NFC', NFD: 'NFD', NFKC: 'NFKC', NFKD: 'NFKD' } as const;

/** Builds the normalizer of a `tokenizer.json` (the Unicode normal forms and sequences of them). */
export function parseNormalizer(value: unknown, field: string, reader: FieldReader): Normalize | undefined {
  if (value === null || value === undefined) return undefined;
  const config = reader.object(value, field);
  const type = reader.type(config, field);
  if (type === 'Sequence') {
    const parts = reader
      .array(config.normalizers, `${field}.normalizers`)
      .map((inner, k) => parseNormalizer(inner, `${field}.normalizers[${k}]`, reader))
      .filter((n): n is Normalize => n !== undefined);
    if (parts.length === 0) return undefined;
    return (text) => parts.reduce((acc, normalize) => normalize(acc), text);
  }
  const form = UNICODE_FORMS[type as keyof typeof UNICODE_FORMS];
  if (form === undefined) {
    reader.unsupported(
      `${field}.type`,
      `normalizer "${type}" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence)`,
    );
  }
  return (text) => text.normalize(form);
}
