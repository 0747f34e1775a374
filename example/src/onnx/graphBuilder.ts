// A thin, typed layer over onnx-proto for writing ONNX models by hand: tensors, attributes, nodes,
// value infos and the ModelProto around them. The model exporters in src/model/algorithms/ use it,
// so that each exporter reads as its graph (which ops, which weights) rather than as protobuf plumbing.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS (`module.exports = $root`), so under NodeNext ESM only the default import
// carries the namespace at run time; a named value import `{ onnx }` fails there.
export const { onnx } = onnxProto;

export const DataType = onnx.TensorProto.DataType;
export type DataType = OnnxTypes.TensorProto.DataType;

export type TensorProto = OnnxTypes.ITensorProto;
export type NodeProto = OnnxTypes.INodeProto;
export type ValueInfoProto = OnnxTypes.IValueInfoProto;
export type AttributeProto = OnnxTypes.IAttributeProto;
export type ModelProto = OnnxTypes.ModelProto;

export const PRODUCER_NAME = 'generator-ml-microservice';
export const ONNX_ML_DOMAIN = 'ai.onnx.ml';
/** Opset per operator domain ('' is the default ai.onnx domain). A model imports the domains its nodes use. */
export const OPSET_VERSIONS: Readonly<Record<string, number>> = { '': 17, [ONNX_ML_DOMAIN]: 3 };
/** IR version 8 is the newest onnx-proto 8.x knows, and the first that opset 17 allows. */
const IR_VERSION = 8;

// ---------------------------------------------------------------------------------------------------
// Tensors (used as initializers and as tensor attributes). Values go into raw_data, which ONNX defines
// as little-endian; writing through a DataView keeps that true on any host.

export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  checkSize(name, dims, values.length);
  const view = new DataView(new ArrayBuffer(values.length * 4));
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  return { name, dims: [...dims], dataType: DataType.FLOAT, rawData: new Uint8Array(view.buffer) };
}

export function doubleTensor(name: string, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  checkSize(name, dims, values.length);
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return { name, dims: [...dims], dataType: DataType.DOUBLE, rawData: new Uint8Array(view.buffer) };
}

export function int64Tensor(name: string, dims: readonly number[], values: ArrayLike<number | bigint>): TensorProto {
  checkSize(name, dims, values.length);
  const view = new DataView(new ArrayBuffer(values.length * 8));
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`int64 tensor "${name}": ${value} is not a safe integer`);
    }
    view.setBigInt64(i * 8, BigInt(value), true);
  }
  return { name, dims: [...dims], dataType: DataType.INT64, rawData: new Uint8Array(view.buffer) };
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (expected !== length) {
    throw new RangeError(`tensor "${name}": dims [${dims.join(', ')}] need ${expected} values, got ${length}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Attributes. A JS number cannot tell a float attribute from an int one (nor [] of either), so each
// value says its ONNX type: node('ArgMax', …, { axis: attr.int(1), keepdims: attr.int(0) }).

export type AttributeValue =
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'tensor'; readonly value: TensorProto }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'strings'; readonly value: readonly string[] };

export const attr = {
  float: (value: number): AttributeValue => ({ type: 'float', value }),
  int: (value: number): AttributeValue => ({ type: 'int', value: checkInt(value) }),
  string: (value: string): AttributeValue => ({ type: 'string', value }),
  tensor: (value: TensorProto): AttributeValue => ({ type: 'tensor', value }),
  floats: (value: readonly number[]): AttributeValue => ({ type: 'floats', value }),
  ints: (value: readonly number[]): AttributeValue => ({ type: 'ints', value: value.map(checkInt) }),
  strings: (value: readonly string[]): AttributeValue => ({ type: 'strings', value }),
} as const;

function checkInt(value: number): number {
  if (!Number.isSafeInteger(value)) throw new RangeError(`int attribute: ${value} is not a safe integer`);
  return value;
}

const utf8 = new TextEncoder();

function attributeProto(name: string, attribute: AttributeValue): AttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  switch (attribute.type) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: attribute.value };
    case 'int':
      return { name, type: AttributeType.INT, i: attribute.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: utf8.encode(attribute.value) };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: attribute.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...attribute.value] };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...attribute.value] };
    case 'strings':
      return { name, type: AttributeType.STRINGS, strings: attribute.value.map((s) => utf8.encode(s)) };
  }
}

// ---------------------------------------------------------------------------------------------------
// Nodes and graph inputs/outputs.

export interface NodeOptions {
  /** Operator domain: '' (ai.onnx, the default) or ONNX_ML_DOMAIN. */
  domain?: string;
  /** Node name; defaults to the first output's name, which is unique in a valid graph. */
  name?: string;
}

export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attributes: Readonly<Record<string, AttributeValue>> = {},
  options: NodeOptions = {},
): NodeProto {
  return {
    opType,
    input: [...inputs],
    output: [...outputs],
    name: options.name ?? `${opType}_${outputs[0] ?? ''}`,
    domain: options.domain ?? '',
    attribute: Object.entries(attributes).map(([attributeName, value]) => attributeProto(attributeName, value)),
  };
}

/** A tensor-typed graph input or output. A string dimension is symbolic (e.g. 'N' for the batch size). */
export function tensorValueInfo(name: string, elemType: DataType, shape: readonly (number | string)[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The model.

export interface ModelSpec {
  graphName: string;
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  nodes: readonly NodeProto[];
  initializers?: readonly TensorProto[];
  /** Stored as ModelProto.metadata_props; onnxruntime exposes them through the session's metadata. */
  metadata?: Readonly<Record<string, string>>;
  docString?: string;
  producerVersion?: string;
}

export function buildModelProto(spec: ModelSpec): ModelProto {
  const domains = new Set(['', ...spec.nodes.map((n) => n.domain ?? '')]);
  const opsetImport = [...domains].map((domain) => {
    const version = OPSET_VERSIONS[domain];
    if (version === undefined) throw new Error(`no opset version known for operator domain "${domain}"`);
    return { domain, version };
  });
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: PRODUCER_NAME,
    producerVersion: spec.producerVersion ?? '',
    docString: spec.docString ?? '',
    opsetImport,
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName,
      input: [...spec.inputs],
      output: [...spec.outputs],
      node: [...spec.nodes],
      initializer: [...(spec.initializers ?? [])],
    },
  });
  // verify() catches a field of the wrong JS type here, where the exporter is, not inside onnxruntime.
  const problem = onnx.ModelProto.verify(model);
  if (problem) throw new Error(`invalid ONNX model "${spec.graphName}": ${problem}`);
  return model;
}

/** The serialized ModelProto, ready for InferenceSession.create() or a model.onnx file. */
export function encodeModel(spec: ModelSpec): Uint8Array {
  return onnx.ModelProto.encode(buildModelProto(spec)).finish();
}
