// jpeg-js ships types for its index only; its decoder module (imported alone so the encoder and its
// Buffer use stay out of the worker bundle) exports the same decode function.
declare module 'jpeg-js/lib/decoder.js' {
  import { decode } from 'jpeg-js';
  export default decode;
}
