export {
  TokenizerConfigError,
  TokenizerError,
  type TokenizerErrorCode,
  TokenizerInputError,
  UnknownTokenIdError,
} from './errors.js';
export { FLAVOUR_NAMES, FLAVOURS, type Flavour, type FlavourName, flavour } from './flavours.js';
export { DecodeStream, LineAnchorStream } from './streaming.js';
export { type DecodeOptions, type EncodeOptions, Tokenizer } from './tokenizer.js';
export { type TrainBpeOptions, type TrainProgress, trainBpe } from './train.js';
