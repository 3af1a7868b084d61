/** The wire format of the uws transport: FlatBuffers headers (frame.fbs) followed by raw payloads. */
export { DecodedFrame, FrameEncoder, FrameOp, decodeFrame, MAX_HEADER_BYTES, PREFIX_BYTES, type DecodeFailure, type FrameAllocator } from './frame.js';
