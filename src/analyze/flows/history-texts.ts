/**
 * The texts of conn histories ("ShADadFf"), each made once: a flow's history letters are hashed and looked up
 * in a small direct-mapped cache of the texts made before. Nearly every flow has one of a few dozen histories,
 * so ending a flow, which asks for its history once or twice (its record, the store's row), allocates nothing;
 * appending letter by letter made a new string at each letter, for every flow.
 */
export class HistoryTexts {
  private readonly texts: string[];
  /** Per slot: the letters of its text, maxLength bytes a slot. */
  private readonly letters: Uint8Array;
  /** Per slot: its text's length + 1, 0 while the slot is empty. */
  private readonly lengths: Uint8Array;
  private readonly slotMask: number;

  /** `slots`: a power of two. */
  constructor(
    private readonly maxLength: number,
    slots = 1024,
  ) {
    if (maxLength > 254 || slots <= 0 || (slots & (slots - 1)) !== 0) throw new Error(`history texts: ${maxLength} letters, ${slots} slots`);
    this.texts = new Array<string>(slots).fill('');
    this.letters = new Uint8Array(slots * maxLength);
    this.lengths = new Uint8Array(slots);
    this.slotMask = slots - 1;
  }

  /** The text of `length` letters (char codes < 128) at `start` of `letters`. */
  textOf(letters: Uint8Array, start: number, length: number): string {
    if (length === 0) return '';
    let hash = length;
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ letters[start + i], 0x9e3779b1);
    const slot = (hash >>> 16) & this.slotMask;
    const at = slot * this.maxLength;
    if (this.lengths[slot] === length + 1) {
      let i = 0;
      while (i < length && this.letters[at + i] === letters[start + i]) i++;
      if (i === length) return this.texts[slot];
    }
    let text = '';
    for (let i = 0; i < length; i++) {
      const code = letters[start + i];
      this.letters[at + i] = code;
      text += String.fromCharCode(code);
    }
    this.lengths[slot] = length + 1;
    this.texts[slot] = text;
    return text;
  }
}
