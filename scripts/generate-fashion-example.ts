/**
 * Generates the quickstart's synthetic fashion data set (`examples/fashion/data/`): product titles as
 * JSONL with entity spans and a category, and small HTML product pages annotated with `data-label` spans.
 *
 * Everything is made up here from fixed word lists and a seeded PRNG, so running
 * `node --import tsx scripts/generate-fashion-example.ts [outDir]` always writes byte-identical files.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SapphireError } from '../src/core/errors.ts';
import type { Span } from '../src/data/types.ts';

/** Entity labels used in the fashion example. */
export const FASHION_LABELS = ['BRAND', 'PRODUCT_TYPE', 'COLOR', 'MATERIAL', 'SIZE', 'GENDER'] as const;

/** One of {@link FASHION_LABELS}. */
export type FashionLabel = (typeof FASHION_LABELS)[number];

/** Product categories (the classification label of every title and page). */
export const FASHION_CATEGORIES = [
  'shoes',
  'tops',
  'knitwear',
  'dresses',
  'skirts',
  'trousers',
  'outerwear',
  'accessories',
  'bags',
  'underwear',
  'swimwear',
] as const;

/** One of {@link FASHION_CATEGORIES}. */
export type FashionCategory = (typeof FASHION_CATEGORIES)[number];

/** Marketplaces the synthetic titles pretend to come from; each has its own title habits. */
export const FASHION_MARKETPLACES = ['shopwave', 'modamarket', 'closetly', 'threadbay'] as const;

/** One line of `titles.jsonl`. */
export interface FashionTitle {
  id: string;
  text: string;
  spans: Span[];
  label: FashionCategory;
  meta: { source: 'titles'; marketplace: (typeof FASHION_MARKETPLACES)[number] };
}

/** One generated product page: its id, category and full HTML source. */
export interface FashionPage {
  id: string;
  label: FashionCategory;
  html: string;
}

/** Sizes of the committed example. */
export const DEFAULT_COUNTS = { titles: 800, pages: 150 } as const;

const SEED = 20240611;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32) and helpers.

class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new SapphireError('INTERNAL', 'pick() from an empty list');
    return xs[this.int(xs.length)]!;
  }

  weighted<T>(pairs: readonly (readonly [T, number])[]): T {
    const total = pairs.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [v, w] of pairs) {
      x -= w;
      if (x < 0) return v;
    }
    return pairs[pairs.length - 1]![0];
  }

  sample<T>(xs: readonly T[], k: number): T[] {
    const copy = [...xs];
    const out: T[] = [];
    while (out.length < k && copy.length > 0) out.push(copy.splice(this.int(copy.length), 1)[0]!);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Text assembled from parts, each optionally labelled; spaces go between parts unless glued.

interface Part {
  text: string;
  label?: FashionLabel;
  /** No space before this part. */
  tight?: boolean;
  /** No space after this part. */
  open?: boolean;
}

type Piece = Part | Piece[] | null | undefined | false | string;

const lit = (text: string): Part => ({ text });
const tight = (text: string): Part => ({ text, tight: true });
const opening = (text: string): Part => ({ text, open: true });
const glue = (text: string): Part => ({ text, tight: true, open: true });
const ent = (text: string, label: FashionLabel): Part => ({ text, label });

function flat(pieces: readonly Piece[]): Part[] {
  const out: Part[] = [];
  for (const p of pieces) {
    if (!p) continue;
    if (typeof p === 'string') out.push(lit(p));
    else if (Array.isArray(p)) out.push(...flat(p));
    else if (p.text) out.push(p);
  }
  return out;
}

/** The pieces, or nothing when `slot` is missing (keeps separators from dangling). */
function when(slot: unknown, ...pieces: Piece[]): Piece[] {
  return slot ? pieces : [];
}

function assemble(parts: readonly Part[]): { text: string; spans: Span[] } {
  let text = '';
  const spans: Span[] = [];
  let prevOpen = true;
  for (const p of parts) {
    if (text && !p.tight && !prevOpen) text += ' ';
    const start = text.length;
    text += p.text;
    if (p.label) spans.push({ start, end: text.length, label: p.label });
    prevOpen = p.open ?? false;
  }
  return { text, spans };
}

const titleWord = (s: string): string => s.replace(/(^|[\s\-/(])([a-z])/g, (_m, a, b) => a + b.toUpperCase());
const capFirst = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

type CaseStyle = 'title' | 'lower' | 'upper' | 'asis';

function applyCase(parts: Part[], style: CaseStyle, rng: Rng): Part[] {
  if (style === 'asis') return parts;
  const lowerBrand = rng.chance(0.7);
  return parts.map((p) => {
    if (style === 'upper') return { ...p, text: p.text.toUpperCase() };
    if (style === 'lower') {
      if (p.label === 'BRAND' && !lowerBrand) return p;
      return { ...p, text: p.text.toLowerCase() };
    }
    if (p.label === 'BRAND' || p.label === 'SIZE') return p;
    return { ...p, text: titleWord(p.text) };
  });
}

// ---------------------------------------------------------------------------------------------
// Vocabulary.

interface Brand {
  name: string;
  aliases?: string[];
  cats: readonly FashionCategory[];
  /** A colour or material word inside the brand name (labelled BRAND there, never COLOR/MATERIAL). */
  trap?: string;
  womenOnly?: boolean;
}

const ALL: readonly FashionCategory[] = FASHION_CATEGORIES;
const APPAREL: FashionCategory[] = ['tops', 'knitwear', 'dresses', 'skirts', 'trousers', 'outerwear'];
const SPORT: FashionCategory[] = [
  'shoes',
  'tops',
  'trousers',
  'outerwear',
  'accessories',
  'bags',
  'swimwear',
];
const HIGH_STREET: FashionCategory[] = [...APPAREL, 'shoes', 'accessories', 'bags', 'underwear', 'swimwear'];

const BRANDS: readonly Brand[] = [
  // sportswear
  { name: 'Nike', aliases: ['NIKE'], cats: SPORT },
  { name: 'Adidas', aliases: ['adidas', 'ADIDAS'], cats: SPORT },
  { name: 'Puma', aliases: ['PUMA'], cats: SPORT },
  { name: 'Reebok', cats: SPORT },
  { name: 'New Balance', aliases: ['NB'], cats: ['shoes', 'tops', 'trousers', 'outerwear'] },
  { name: 'Asics', aliases: ['ASICS'], cats: ['shoes', 'tops', 'trousers'] },
  { name: 'Under Armour', cats: ['shoes', 'tops', 'trousers', 'outerwear', 'bags', 'underwear'] },
  { name: 'Champion', cats: ['tops', 'knitwear', 'trousers', 'accessories'] },
  { name: 'Fila', aliases: ['FILA'], cats: ['shoes', 'tops', 'knitwear'] },
  { name: 'Brisk Athletic', cats: ['shoes', 'tops', 'trousers', 'underwear'] },
  // footwear
  { name: 'Converse', cats: ['shoes', 'tops', 'bags'] },
  { name: 'Vans', aliases: ['VANS'], cats: ['shoes', 'tops', 'accessories', 'bags'] },
  { name: 'Dr. Martens', aliases: ['Dr Martens', 'Doc Martens'], cats: ['shoes', 'bags'] },
  { name: 'Timberland', cats: ['shoes', 'outerwear'] },
  { name: 'Clarks', cats: ['shoes'] },
  { name: 'Birkenstock', cats: ['shoes'] },
  { name: 'Skechers', cats: ['shoes'] },
  { name: 'UGG', aliases: ['Ugg'], cats: ['shoes', 'accessories'] },
  { name: 'Crocs', cats: ['shoes'] },
  { name: 'Red Wing', aliases: ['Red Wing Shoes'], cats: ['shoes'], trap: 'red' },
  { name: 'Golden Goose', cats: ['shoes', 'bags'] },
  { name: 'Hunter', cats: ['shoes', 'outerwear', 'bags'] },
  // outdoor
  {
    name: 'The North Face',
    aliases: ['North Face', 'TNF'],
    cats: ['outerwear', 'bags', 'accessories', 'shoes', 'tops'],
  },
  { name: 'Patagonia', cats: ['outerwear', 'tops', 'knitwear', 'bags', 'trousers'] },
  { name: 'Columbia', cats: ['outerwear', 'shoes', 'trousers'] },
  { name: 'Black Diamond', cats: ['outerwear', 'accessories', 'bags'], trap: 'black' },
  { name: "Arc'teryx", cats: ['outerwear', 'bags', 'trousers'] },
  { name: 'Barbour', cats: ['outerwear', 'knitwear', 'tops', 'accessories'] },
  { name: 'Kestrel Outdoor', cats: ['outerwear', 'shoes', 'bags', 'accessories'] },
  { name: 'Silver Birch Outfitters', cats: ['outerwear', 'knitwear', 'trousers'], trap: 'silver' },
  // premium
  {
    name: 'Ralph Lauren',
    aliases: ['Polo Ralph Lauren'],
    cats: ['tops', 'knitwear', 'trousers', 'outerwear', 'dresses', 'underwear', 'accessories'],
  },
  { name: 'Tommy Hilfiger', aliases: ['Tommy', 'TOMMY HILFIGER'], cats: HIGH_STREET },
  {
    name: 'Calvin Klein',
    aliases: ['CK'],
    cats: ['underwear', 'tops', 'trousers', 'swimwear', 'accessories'],
  },
  { name: 'Hugo Boss', aliases: ['BOSS'], cats: ['tops', 'knitwear', 'trousers', 'outerwear', 'shoes'] },
  { name: 'Lacoste', cats: ['tops', 'knitwear', 'shoes', 'accessories'] },
  { name: 'Michael Kors', cats: ['bags', 'accessories', 'shoes', 'dresses'] },
  { name: 'Kate Spade', cats: ['bags', 'accessories', 'dresses'], womenOnly: true },
  { name: 'Coach', cats: ['bags', 'accessories', 'shoes'] },
  { name: 'Ted Baker', cats: [...APPAREL, 'bags', 'accessories'] },
  { name: 'Reiss', cats: APPAREL },
  { name: 'AllSaints', aliases: ['All Saints'], cats: [...APPAREL, 'shoes', 'bags'] },
  { name: 'Whistles', cats: ['dresses', 'skirts', 'tops', 'knitwear', 'shoes'], womenOnly: true },
  { name: 'Massimo Dutti', cats: [...APPAREL, 'shoes', 'bags'] },
  { name: 'Longchamp', cats: ['bags', 'accessories'] },
  { name: 'Fossil', cats: ['accessories', 'bags'] },
  { name: 'Ray-Ban', aliases: ['RayBan'], cats: ['accessories'] },
  // denim
  { name: "Levi's", aliases: ['Levis', "LEVI'S"], cats: ['trousers', 'tops', 'outerwear', 'skirts'] },
  { name: 'Wrangler', cats: ['trousers', 'outerwear', 'tops'] },
  { name: 'Lee', cats: ['trousers', 'outerwear'] },
  { name: 'Diesel', cats: ['trousers', 'tops', 'outerwear', 'underwear'] },
  // high street
  { name: 'ZARA', aliases: ['Zara'], cats: HIGH_STREET },
  { name: 'H&M', aliases: ['H & M', 'HM'], cats: HIGH_STREET },
  { name: 'Mango', aliases: ['MANGO'], cats: HIGH_STREET },
  { name: 'Uniqlo', aliases: ['UNIQLO'], cats: HIGH_STREET },
  { name: 'Gap', aliases: ['GAP'], cats: HIGH_STREET },
  { name: 'Forever 21', aliases: ['Forever21'], cats: HIGH_STREET },
  { name: '&Other Stories', aliases: ['& Other Stories'], cats: HIGH_STREET, womenOnly: true },
  { name: 'COS', cats: HIGH_STREET },
  { name: 'Marks & Spencer', aliases: ['M&S', 'Marks and Spencer'], cats: ALL },
  { name: 'Next', cats: ALL },
  { name: 'Boden', cats: HIGH_STREET },
  { name: 'Superdry', cats: ['tops', 'knitwear', 'outerwear', 'trousers', 'bags'] },
  { name: 'Pull&Bear', aliases: ['Pull & Bear'], cats: HIGH_STREET },
  { name: 'Bershka', cats: HIGH_STREET },
  { name: 'Monki', cats: HIGH_STREET },
  { name: 'Weekday', cats: HIGH_STREET },
  { name: 'Cotton On', cats: HIGH_STREET, trap: 'cotton' },
  { name: 'White Stuff', cats: [...APPAREL, 'accessories'], trap: 'white' },
  { name: 'Joules', cats: [...APPAREL, 'shoes', 'accessories'] },
  { name: 'Orange Culture', cats: APPAREL, trap: 'orange' },
  // underwear & swimwear
  { name: 'Sloggi', cats: ['underwear'] },
  { name: 'Triumph', cats: ['underwear', 'swimwear'], womenOnly: true },
  { name: "Victoria's Secret", cats: ['underwear', 'swimwear'], womenOnly: true },
  { name: 'Speedo', cats: ['swimwear', 'accessories'] },
  { name: 'Seafolly', cats: ['swimwear'], womenOnly: true },
  { name: 'Billabong', cats: ['swimwear', 'tops', 'outerwear'] },
  { name: 'Quiksilver', cats: ['swimwear', 'tops'] },
  { name: 'Ondine Swim', cats: ['swimwear'] },
  // invented, some with colour or material words inside
  { name: 'Blue Harbour', cats: ['tops', 'knitwear', 'trousers', 'outerwear'], trap: 'blue' },
  { name: 'Silk & Stone', cats: ['tops', 'dresses', 'skirts', 'accessories'], trap: 'silk', womenOnly: true },
  { name: 'Green Leaf', cats: [...APPAREL, 'underwear'], trap: 'green' },
  { name: 'Black Sheep Knitwear', cats: ['knitwear', 'accessories'], trap: 'black' },
  { name: 'Navy Yard', cats: ['tops', 'knitwear', 'outerwear', 'trousers'], trap: 'navy' },
  { name: 'Grey Mist', cats: APPAREL, trap: 'grey' },
  { name: 'Linen Lane', cats: ['tops', 'dresses', 'trousers', 'skirts'], trap: 'linen' },
  { name: 'Wool & Co', cats: ['knitwear', 'accessories', 'outerwear'], trap: 'wool' },
  { name: 'Leather Lane Goods', cats: ['bags', 'accessories'], trap: 'leather' },
  { name: 'Northvale', cats: ALL },
  { name: 'Marlowe & Finch', cats: [...APPAREL, 'accessories', 'bags'] },
  { name: 'Atelier Noor', cats: ['dresses', 'skirts', 'tops', 'bags'], womenOnly: true },
  { name: 'Juniper Row', cats: HIGH_STREET },
  { name: 'Halden', cats: ['outerwear', 'knitwear', 'shoes'] },
  { name: 'Saltmarsh', cats: ['swimwear', 'tops', 'accessories'] },
  { name: 'Fable & Thread', cats: APPAREL },
  { name: 'Copperleaf', cats: ['accessories', 'bags', 'shoes'] },
  { name: 'Tidewater', cats: ['swimwear', 'outerwear', 'shoes'] },
  { name: 'Loom 44', cats: ['tops', 'knitwear', 'underwear'] },
  { name: 'Studio 9', cats: HIGH_STREET },
  { name: 'Harbour Lane', cats: [...APPAREL, 'accessories'] },
  { name: 'Wrenly', cats: ['dresses', 'skirts', 'tops', 'shoes'], womenOnly: true },
];

type SizeSystem = 'alpha' | 'shoe' | 'waist' | 'dress' | 'bra' | 'onesize' | 'sock' | 'belt';
type GenderKey = 'men' | 'women' | 'unisex' | 'kids' | 'boys' | 'girls';

interface ProductType {
  name: string;
  /** Restricted to women/girls ('f') or men/boys ('m'). */
  g?: 'f' | 'm';
  sizes?: SizeSystem;
  /** Materials that make sense for this type, when narrower than its category's. */
  materials?: string[];
}

interface CategoryInfo {
  weight: number;
  types: ProductType[];
  materials: string[];
  sizes: SizeSystem[];
  /** Product types of other categories that go with this one (for styling sentences). */
  pairs: FashionCategory[];
  /** Breadcrumb / navigation name. */
  nav: string;
}

const pt = (name: string, g?: 'f' | 'm', sizes?: SizeSystem, materials?: string[]): ProductType => ({
  name,
  g,
  sizes,
  materials,
});
const DENIM = ['denim', 'stretch denim', 'organic cotton'];
const SPORTY = ['mesh', 'leather', 'suede', 'canvas', 'knit'];

const CATEGORIES: Record<FashionCategory, CategoryInfo> = {
  shoes: {
    weight: 14,
    nav: 'Shoes',
    types: [
      pt('running shoes', undefined, undefined, ['mesh', 'knit']),
      pt('trainers', undefined, undefined, SPORTY),
      pt('sneakers', undefined, undefined, SPORTY),
      pt('boots'),
      pt('chelsea boots'),
      pt('ankle boots'),
      pt('hiking boots'),
      pt('loafers'),
      pt('sandals'),
      pt('heels', 'f'),
      pt('court shoes', 'f'),
      pt('brogues'),
      pt('slides'),
      pt('espadrilles'),
      pt('flip flops'),
      pt('mules', 'f'),
    ],
    materials: ['leather', 'suede', 'canvas', 'mesh', 'faux leather', 'rubber', 'nubuck', 'vegan leather'],
    sizes: ['shoe'],
    pairs: ['trousers', 'dresses', 'tops'],
  },
  tops: {
    weight: 14,
    nav: 'Tops',
    types: [
      pt('t-shirt'),
      pt('tee'),
      pt('shirt'),
      pt('polo shirt'),
      pt('blouse', 'f'),
      pt('tank top'),
      pt('crop top', 'f'),
      pt('long sleeve top'),
      pt('oxford shirt'),
      pt('henley', 'm'),
      pt('camisole', 'f'),
      pt('overshirt'),
    ],
    materials: ['cotton', 'organic cotton', 'linen', 'jersey', 'viscose', 'silk', 'polyester', 'modal'],
    sizes: ['alpha'],
    pairs: ['trousers', 'skirts', 'outerwear'],
  },
  knitwear: {
    weight: 8,
    nav: 'Knitwear',
    types: [
      pt('jumper'),
      pt('sweater'),
      pt('cardigan'),
      pt('hoodie'),
      pt('sweatshirt'),
      pt('turtleneck'),
      pt('roll neck jumper'),
      pt('sweater vest'),
    ],
    materials: ['merino wool', 'wool', 'cashmere', 'lambswool', 'wool blend', 'cotton', 'acrylic', 'alpaca'],
    sizes: ['alpha'],
    pairs: ['trousers', 'skirts', 'shoes'],
  },
  dresses: {
    weight: 9,
    nav: 'Dresses',
    types: [
      pt('dress', 'f'),
      pt('midi dress', 'f'),
      pt('maxi dress', 'f'),
      pt('mini dress', 'f'),
      pt('wrap dress', 'f'),
      pt('shirt dress', 'f'),
      pt('slip dress', 'f'),
      pt('sundress', 'f'),
      pt('bodycon dress', 'f'),
      pt('tea dress', 'f'),
      pt('jumpsuit', 'f'),
      pt('playsuit', 'f'),
    ],
    materials: ['cotton', 'linen', 'viscose', 'silk', 'satin', 'chiffon', 'jersey', 'crepe', 'polyester'],
    sizes: ['dress', 'alpha'],
    pairs: ['shoes', 'outerwear', 'bags'],
  },
  skirts: {
    weight: 5,
    nav: 'Skirts',
    types: [
      pt('skirt', 'f'),
      pt('mini skirt', 'f'),
      pt('midi skirt', 'f'),
      pt('maxi skirt', 'f'),
      pt('pleated skirt', 'f'),
      pt('pencil skirt', 'f'),
      pt('a-line skirt', 'f'),
      pt('wrap skirt', 'f'),
    ],
    materials: ['denim', 'cotton', 'satin', 'wool', 'leather', 'faux leather', 'linen', 'tweed', 'corduroy'],
    sizes: ['dress', 'alpha'],
    pairs: ['tops', 'knitwear', 'shoes'],
  },
  trousers: {
    weight: 11,
    nav: 'Trousers & Jeans',
    types: [
      pt('jeans', undefined, 'waist', DENIM),
      pt('skinny jeans', undefined, 'waist', DENIM),
      pt('straight leg jeans', undefined, 'waist', DENIM),
      pt('wide leg jeans', 'f', 'waist', DENIM),
      pt('mom jeans', 'f', 'waist', DENIM),
      pt('chinos', undefined, 'waist', ['cotton twill', 'cotton', 'linen']),
      pt('trousers'),
      pt('cargo trousers'),
      pt('cargo pants'),
      pt('joggers', undefined, 'alpha', ['cotton', 'fleece', 'polyester']),
      pt('sweatpants', undefined, 'alpha', ['cotton', 'fleece']),
      pt('shorts'),
      pt('leggings', 'f', 'alpha', ['cotton', 'polyester']),
      pt('culottes', 'f'),
      pt('tailored trousers'),
    ],
    materials: [
      'denim',
      'stretch denim',
      'cotton twill',
      'cotton',
      'linen',
      'wool blend',
      'corduroy',
      'fleece',
    ],
    sizes: ['waist', 'alpha', 'dress'],
    pairs: ['tops', 'knitwear', 'shoes'],
  },
  outerwear: {
    weight: 10,
    nav: 'Coats & Jackets',
    types: [
      pt('coat'),
      pt('jacket'),
      pt('parka'),
      pt('puffer jacket'),
      pt('rain jacket'),
      pt('trench coat'),
      pt('overcoat'),
      pt('bomber jacket'),
      pt('blazer'),
      pt('gilet'),
      pt('fleece'),
      pt('windbreaker'),
      pt('peacoat'),
      pt('shacket'),
    ],
    materials: [
      'wool',
      'wool blend',
      'down',
      'nylon',
      'recycled polyester',
      'leather',
      'faux leather',
      'denim',
      'waxed cotton',
      'suede',
      'shearling',
    ],
    sizes: ['alpha'],
    pairs: ['knitwear', 'trousers', 'shoes'],
  },
  accessories: {
    weight: 9,
    nav: 'Accessories',
    types: [
      pt('scarf', undefined, 'onesize', ['wool', 'cashmere', 'silk', 'acrylic', 'cotton']),
      pt('beanie', undefined, 'onesize', ['wool', 'cashmere', 'acrylic']),
      pt('bucket hat', undefined, 'alpha', ['cotton', 'straw', 'polyester']),
      pt('baseball cap', undefined, 'onesize', ['cotton', 'wool', 'polyester']),
      pt('cap', undefined, 'onesize', ['cotton', 'wool', 'polyester']),
      pt('gloves', undefined, 'alpha', ['leather', 'wool', 'cashmere', 'acrylic']),
      pt('belt', undefined, 'belt', ['leather', 'faux leather', 'canvas']),
      pt('sunglasses', undefined, 'onesize', ['acetate', 'metal']),
      pt('watch', undefined, 'onesize', ['stainless steel', 'leather']),
      pt('tie', 'm', 'onesize', ['silk', 'wool']),
      pt('hair clip', 'f', 'onesize', ['acetate', 'metal']),
      pt('bandana', undefined, 'onesize', ['cotton', 'silk']),
    ],
    materials: [
      'wool',
      'cashmere',
      'leather',
      'cotton',
      'acrylic',
      'silk',
      'polyester',
      'straw',
      'stainless steel',
    ],
    sizes: ['onesize'],
    pairs: ['outerwear', 'knitwear', 'dresses'],
  },
  bags: {
    weight: 8,
    nav: 'Bags',
    types: [
      pt('tote bag'),
      pt('backpack'),
      pt('rucksack'),
      pt('crossbody bag'),
      pt('shoulder bag', 'f'),
      pt('handbag', 'f'),
      pt('clutch', 'f'),
      pt('duffel bag'),
      pt('weekender bag'),
      pt('bum bag'),
      pt('belt bag'),
      pt('messenger bag'),
      pt('wallet'),
      pt('purse', 'f'),
      pt('laptop bag'),
    ],
    materials: [
      'leather',
      'faux leather',
      'canvas',
      'nylon',
      'recycled polyester',
      'suede',
      'straw',
      'vegan leather',
    ],
    sizes: ['onesize'],
    pairs: ['outerwear', 'dresses', 'shoes'],
  },
  underwear: {
    weight: 6,
    nav: 'Underwear & Nightwear',
    types: [
      pt('boxer briefs', 'm'),
      pt('boxers', 'm'),
      pt('briefs'),
      pt('trunks', 'm'),
      pt('bra', 'f', 'bra', ['lace', 'cotton', 'microfibre', 'satin']),
      pt('sports bra', 'f', 'alpha'),
      pt('bralette', 'f', 'alpha'),
      pt('knickers', 'f'),
      pt('thong', 'f'),
      pt('socks', undefined, 'sock', ['cotton', 'bamboo', 'merino wool']),
      pt('ankle socks', undefined, 'sock', ['cotton', 'bamboo']),
      pt('pyjamas'),
      pt('pyjama set'),
      pt('bodysuit', 'f'),
      pt('vest'),
    ],
    materials: [
      'cotton',
      'stretch cotton',
      'organic cotton',
      'modal',
      'lace',
      'bamboo',
      'microfibre',
      'satin',
    ],
    sizes: ['alpha'],
    pairs: ['tops', 'knitwear'],
  },
  swimwear: {
    weight: 6,
    nav: 'Swimwear',
    types: [
      pt('bikini', 'f'),
      pt('bikini top', 'f', 'bra'),
      pt('bikini bottoms', 'f'),
      pt('swimsuit', 'f', 'dress'),
      pt('one-piece swimsuit', 'f', 'dress'),
      pt('swim shorts', 'm'),
      pt('board shorts', 'm'),
      pt('swim trunks', 'm'),
      pt('rash guard'),
      pt('tankini', 'f'),
      pt('kaftan', 'f', 'onesize', ['linen', 'cotton', 'viscose']),
    ],
    materials: ['recycled nylon', 'nylon', 'polyamide', 'polyester', 'elastane blend'],
    sizes: ['alpha'],
    pairs: ['accessories', 'bags', 'shoes'],
  },
};

const COLORS: readonly (readonly [string, number])[] = [
  ['black', 10],
  ['white', 7],
  ['navy', 5],
  ['navy blue', 2],
  ['grey', 4],
  ['light grey', 2],
  ['dark grey', 1],
  ['charcoal', 2],
  ['off white', 2],
  ['cream', 2],
  ['ivory', 1],
  ['beige', 2],
  ['camel', 2],
  ['tan', 2],
  ['brown', 3],
  ['chocolate brown', 1],
  ['khaki', 2],
  ['olive', 2],
  ['olive green', 1],
  ['forest green', 1],
  ['green', 3],
  ['sage green', 1],
  ['blue', 4],
  ['light blue', 2],
  ['sky blue', 1],
  ['cobalt blue', 1],
  ['red', 4],
  ['burgundy', 2],
  ['pink', 3],
  ['dusty pink', 1],
  ['hot pink', 1],
  ['lilac', 1],
  ['purple', 1],
  ['orange', 2],
  ['rust', 1],
  ['mustard', 1],
  ['yellow', 2],
  ['teal', 1],
  ['silver', 1],
  ['gold', 1],
  ['multicolour', 1],
];

/** Typos and spelling variants sellers use; the typo is still labelled with the intended entity. */
const TYPOS: Record<string, string[]> = {
  't-shirt': ['tshirt', 't shirt', 'tee shirt'],
  jeans: ['jens', 'jeens'],
  blue: ['bluee', 'blu'],
  black: ['blak', 'balck'],
  white: ['whte', 'wite'],
  grey: ['gray'],
  'light grey': ['light gray'],
  'dark grey': ['dark gray'],
  'off white': ['off-white', 'offwhite'],
  multicolour: ['multicolor', 'multi colour'],
  trainers: ['trainners', 'traners'],
  sneakers: ['sneekers', 'snekers'],
  trousers: ['trousres', 'trowsers'],
  leather: ['lether', 'leathr'],
  cardigan: ['cardigian', 'cardi'],
  jumper: ['jumpr'],
  cotton: ['coton', 'cottn'],
  dress: ['dres'],
  jacket: ['jaket', 'jackett'],
  hoodie: ['hoody', 'hoodey'],
  denim: ['demin'],
  burgundy: ['burgandy'],
  beige: ['biege'],
  cashmere: ['cashmire'],
  polyester: ['polyster'],
  sandals: ['sandles'],
  backpack: ['back pack'],
  swimsuit: ['swim suit'],
  bikini: ['bikni'],
  sweater: ['sweather'],
  'running shoes': ['runing shoes'],
  boots: ['bootz'],
  'flip flops': ['flip-flops', 'flipflops'],
  'sports bra': ['sport bra'],
  pyjamas: ['pajamas'],
};

/** Abbreviations common on auction-style marketplaces. */
const ABBREVIATIONS: Record<string, string[]> = {
  black: ['blk'],
  white: ['wht'],
  navy: ['nvy'],
  grey: ['gry'],
  brown: ['brn'],
  leather: ['lthr'],
  polyester: ['poly'],
  't-shirt': ['tee'],
  'faux leather': ['PU'],
};

interface GenderForm {
  adj: string[];
  noun: string;
}

const GENDERS: Record<GenderKey, GenderForm> = {
  men: { adj: ["Men's", "Men's", 'Mens', 'Men', "MEN'S"], noun: 'men' },
  women: { adj: ["Women's", "Women's", 'Womens', 'Women', 'Ladies', "WOMEN'S"], noun: 'women' },
  unisex: { adj: ['Unisex', 'Unisex', 'UNISEX'], noun: 'everyone' },
  kids: { adj: ['Kids', "Kid's", "Children's", 'Childrens', 'Junior'], noun: 'kids' },
  boys: { adj: ['Boys', "Boy's", 'BOYS'], noun: 'boys' },
  girls: { adj: ['Girls', "Girl's", 'GIRLS'], noun: 'girls' },
};
const GENDER_TYPOS: Record<GenderKey, string[]> = {
  men: ['mens', 'mns'],
  women: ['womans', 'wmns', 'womens'],
  unisex: ['uni-sex'],
  kids: ['kidz'],
  boys: ['boy'],
  girls: ['girl'],
};
const isChild = (g: GenderKey | null): boolean => g === 'kids' || g === 'boys' || g === 'girls';

const MODEL_WORDS = [
  'Air',
  'Classic',
  'Essential',
  'Original',
  'Heritage',
  'Retro',
  'Ultra',
  'Pro',
  'Sport',
  'Everyday',
  'Premium',
  'Slim Fit',
  'Relaxed Fit',
  'Oversized',
  'Regular Fit',
  'High Rise',
  'Crew Neck',
  'V-Neck',
  'Hooded',
  'Quilted',
  'Waterproof',
  'Lightweight',
  'Stretch',
  'Trail 3',
  'Runner 2',
  '501',
  '574',
  'Aeroflex',
  'Cloudline',
  'Studio',
  'Tailored',
  'Vintage Wash',
];

const NOISE_PREFIX: Record<string, string[]> = {
  shopwave: ['New', 'Bestseller', 'Limited Edition', '2-Pack', 'Pack of 3', '2024 Collection'],
  modamarket: ['NEW IN', 'New Season', 'Exclusive', 'SS24', 'AW23'],
  closetly: ['vintage', 'barely worn', 'preloved', 'new'],
  threadbay: ['NEW', 'BNWT', 'NWT', '*** SALE ***', 'Brand New', 'Genuine', 'RARE', '3 PACK', 'JOB LOT'],
};
const NOISE_SUFFIX: Record<string, string[]> = {
  shopwave: ['Free Shipping', '| Free Returns', '(Pack of 2)', '- Sale', '2-Pack', 'Gift Idea'],
  modamarket: ['- sale', '| online exclusive', '30% off', 'new season'],
  closetly: [
    'worn once',
    'good condition',
    'vgc',
    'with tags',
    'never worn',
    'bundle available',
    'smoke free home',
  ],
  threadbay: [
    'FREE P&P',
    'Next Day Delivery',
    'Fast Dispatch',
    'RRP £45',
    '50% OFF',
    'UK Seller',
    'L@@K',
    'FREE POST',
  ],
};

const NO_ENTITY_TITLES = [
  'Brand new with tags, never worn',
  'Job lot of clothes - see photos',
  'Mystery bundle, mixed sizes',
  'Clearance item - read description',
  'Gift for her, boxed',
  'please see pictures for details',
  'Vintage 90s piece, rare find',
  'ONLY WORN ONCE - MUST GO',
  'Bundle deal 3 for 2',
  'Sample sale item, final clearance',
  'as new, collection only',
  'Designer piece, authenticity card included',
];

const MARKETPLACE_WEIGHTS: readonly (readonly [(typeof FASHION_MARKETPLACES)[number], number])[] = [
  ['shopwave', 3],
  ['modamarket', 2],
  ['closetly', 2],
  ['threadbay', 2],
];

// ---------------------------------------------------------------------------------------------
// Products and their entity renderings.

interface Product {
  category: FashionCategory;
  type: ProductType;
  brand: Brand | null;
  gender: GenderKey | null;
  colors: string[];
  material: string | null;
  sizeSystem: SizeSystem;
}

interface Presence {
  brand: number;
  gender: number;
  color: number;
  twoColors: number;
  material: number;
}

const materialsOf = (type: ProductType, info: CategoryInfo): string[] => type.materials ?? info.materials;

function sampleProduct(rng: Rng, presence: Presence, category?: FashionCategory): Product {
  const cat = category ?? rng.weighted(FASHION_CATEGORIES.map((c) => [c, CATEGORIES[c].weight] as const));
  const info = CATEGORIES[cat];
  const type = rng.pick(info.types);
  let gender: GenderKey | null = null;
  if (rng.chance(presence.gender)) {
    if (type.g === 'f')
      gender = rng.weighted([
        ['women', 6],
        ['girls', 1],
      ]);
    else if (type.g === 'm')
      gender = rng.weighted([
        ['men', 6],
        ['boys', 1],
      ]);
    else
      gender = rng.weighted([
        ['men', 5],
        ['women', 5],
        ['unisex', 1.5],
        ['kids', 1],
        ['boys', 0.8],
        ['girls', 0.8],
      ]);
  }
  let brand: Brand | null = null;
  if (rng.chance(presence.brand)) {
    const female = gender === 'women' || gender === 'girls' || type.g === 'f';
    const fits = BRANDS.filter((b) => b.cats.includes(cat) && (!b.womenOnly || female));
    // Brands whose names contain a colour/material word are drawn twice as often: they are the hard cases.
    brand = rng.weighted(fits.map((b) => [b, b.trap ? 2 : 1] as const));
  }
  const colors: string[] = [];
  let material: string | null = null;
  if (rng.chance(presence.color)) {
    colors.push(rng.weighted(COLORS));
    if (rng.chance(presence.twoColors)) {
      const second = rng.weighted(COLORS);
      if (second !== colors[0]) colors.push(second);
    }
  }
  if (rng.chance(presence.material)) {
    material = rng.pick(materialsOf(type, info).filter((m) => m !== type.name));
  }
  // Brands with a colour/material word in their name: often paired with that same word as a real attribute.
  if (brand?.trap && rng.chance(0.6)) {
    if (COLORS.some(([c]) => c === brand!.trap)) colors.splice(0, colors.length, brand.trap);
    else if (materialsOf(type, info).includes(brand.trap)) material = brand.trap;
  }
  const sizeSystem = type.sizes ?? rng.pick(info.sizes);
  return { category: cat, type, brand, gender, colors, material, sizeSystem };
}

function brandText(rng: Rng, b: Brand): string {
  return b.aliases && rng.chance(0.2) ? rng.pick(b.aliases) : b.name;
}

/** A size value as labelled parts, possibly with an unlabelled lead ("age 5-6"). */
interface SizeRender {
  parts: Part[];
  /** Whether a "size"/"sz" word may go before it. */
  prefixable: boolean;
}

const ALPHA = ['XS', 'S', 'M', 'L', 'XL', 'XXL'];
const ALPHA_WORDS: Record<string, string> = {
  XS: 'Extra Small',
  S: 'Small',
  M: 'Medium',
  L: 'Large',
  XL: 'X-Large',
  XXL: 'XX-Large',
};

function kidsSize(rng: Rng): SizeRender {
  const age = rng.range(2, 13);
  const range = `${age}-${age + 1}`;
  switch (rng.int(5)) {
    case 0:
      return { parts: [ent(`${range} years`, 'SIZE')], prefixable: true };
    case 1:
      return { parts: [lit('age'), ent(range, 'SIZE')], prefixable: false };
    case 2:
      return { parts: [ent(`${range}Y`, 'SIZE')], prefixable: true };
    case 3:
      return {
        parts: [ent(rng.pick(['6-12 months', '12-18 months', '18-24 months', '3-6 months']), 'SIZE')],
        prefixable: true,
      };
    default:
      return { parts: [ent(`${range} Yrs`, 'SIZE')], prefixable: true };
  }
}

function shoeSize(rng: Rng, gender: GenderKey | null): string {
  const child = isChild(gender);
  const half = rng.chance(0.3) ? '.5' : '';
  const system = rng.weighted([
    ['UK', 5],
    ['EU', 3],
    ['US', 2],
  ]);
  const spaced = rng.chance(0.75) ? ' ' : '';
  if (system === 'EU') {
    const n = child ? rng.range(25, 37) : gender === 'women' ? rng.range(36, 42) : rng.range(38, 47);
    return rng.chance(0.15) ? `${n} EU` : `EU${spaced}${n}`;
  }
  if (system === 'US') {
    const n = child ? rng.range(10, 13) : gender === 'women' ? rng.range(5, 10) : rng.range(7, 13);
    return `US${spaced}${n}${half}`;
  }
  const n = child ? rng.range(10, 13) : gender === 'women' ? rng.range(3, 8) : rng.range(6, 12);
  return rng.chance(0.15) ? `${n}${half} UK` : `UK${spaced}${n}${half}`;
}

function renderSize(rng: Rng, system: SizeSystem, gender: GenderKey | null): SizeRender {
  if (isChild(gender) && system !== 'shoe' && system !== 'onesize') return kidsSize(rng);
  const one = (text: string, prefixable = true): SizeRender => ({ parts: [ent(text, 'SIZE')], prefixable });
  switch (system) {
    case 'shoe':
      return one(shoeSize(rng, gender), rng.chance(0.5));
    case 'waist': {
      const w = rng.pick([26, 28, 30, 31, 32, 33, 34, 36, 38]);
      const l = rng.pick([28, 30, 32, 34]);
      const form = rng.int(5);
      if (form === 0) return one(`${w}W ${l}L`, false);
      if (form === 1) return one(`W${w} L${l}`, false);
      if (form === 2) return one(`W${w}/L${l}`, false);
      if (form === 3) return one(`${w}x${l}`);
      return { parts: [lit('waist'), ent(String(w), 'SIZE')], prefixable: false };
    }
    case 'dress': {
      const form = rng.int(4);
      if (form === 0) return one(`UK ${rng.pick([6, 8, 10, 12, 14, 16, 18])}`);
      if (form === 1) return one(`EU ${rng.pick([34, 36, 38, 40, 42, 44])}`);
      if (form === 2) return one(`US ${rng.pick([2, 4, 6, 8, 10, 12])}`);
      return {
        parts: [lit(rng.pick(['size', 'Size', 'sz'])), ent(String(rng.pick([8, 10, 12, 14, 16])), 'SIZE')],
        prefixable: false,
      };
    }
    case 'bra':
      return one(`${rng.pick([30, 32, 34, 36, 38])}${rng.pick(['A', 'B', 'C', 'D', 'DD', 'E'])}`);
    case 'onesize':
      return one(rng.pick(['one size', 'One Size', 'ONE SIZE', 'OS', 'one-size']), false);
    case 'sock':
      return one(rng.pick(['UK 6-11', 'UK 4-8', 'UK 7-11', '39-42']));
    case 'belt':
      return one(rng.pick(['S/M', 'M/L', 'L/XL', '85cm', '90 cm', '95cm', '34in', '32in']));
    default: {
      const s = rng.pick(gender === 'women' ? ALPHA.slice(0, 5) : ALPHA.slice(1));
      if (rng.chance(0.12)) return one(ALPHA_WORDS[s]!);
      if (s === 'XXL' && rng.chance(0.4)) return one('2XL');
      if (rng.chance(0.08)) return one(rng.pick(['S/M', 'M/L']));
      return one(s);
    }
  }
}

function sizeOptions(rng: Rng, system: SizeSystem, gender: GenderKey | null): string[] {
  if (isChild(gender) && system !== 'shoe' && system !== 'onesize') {
    const a = rng.range(2, 8);
    return [0, 2, 4, 6].map((d) => `${a + d}-${a + d + 1} years`);
  }
  switch (system) {
    case 'shoe': {
      const lo = isChild(gender) ? 10 : gender === 'women' ? 3 : 6;
      return Array.from({ length: rng.range(4, 7) }, (_, i) => `UK ${lo + i}`);
    }
    case 'waist':
      return rng.chance(0.5)
        ? ['28W', '30W', '32W', '34W', '36W']
        : ['W28 L32', 'W30 L32', 'W32 L32', 'W34 L32'];
    case 'dress':
      return rng.chance(0.6)
        ? ['UK 6', 'UK 8', 'UK 10', 'UK 12', 'UK 14', 'UK 16']
        : ['EU 34', 'EU 36', 'EU 38', 'EU 40', 'EU 42'];
    case 'bra':
      return ['32B', '32C', '34B', '34C', '34D', '36C', '36D'];
    case 'onesize':
      return ['One Size'];
    case 'sock':
      return ['UK 4-8', 'UK 7-11'];
    case 'belt':
      return ['S/M', 'M/L', 'L/XL'];
    default:
      return gender === 'women' ? ['XS', 'S', 'M', 'L', 'XL'] : ['S', 'M', 'L', 'XL', 'XXL'];
  }
}

/** The surface form of a colour/material/product word: canonical, typo, or abbreviation. */
function surface(rng: Rng, word: string, typoRate: number, abbrRate: number): string {
  if (ABBREVIATIONS[word] && rng.chance(abbrRate)) return rng.pick(ABBREVIATIONS[word]!);
  if (TYPOS[word] && rng.chance(typoRate)) return rng.pick(TYPOS[word]!);
  return word;
}

function genderText(rng: Rng, g: GenderKey, typoRate: number): string {
  if (rng.chance(typoRate)) return rng.pick(GENDER_TYPOS[g]);
  return rng.pick(GENDERS[g].adj);
}

// ---------------------------------------------------------------------------------------------
// Titles.

interface Slots {
  B: Part | null;
  G: Part | null;
  /** "for men" style gender phrase. */
  GF: Piece[] | null;
  C: Part[] | null;
  M: Part | null;
  P: Part;
  S: SizeRender | null;
  X: Part | null;
}

/** Size with an optional "size"/"sz"/"Size:" lead. */
function sizeLead(rng: Rng, s: SizeRender | null, leads: string[]): Piece[] {
  if (!s) return [];
  if (s.prefixable && rng.chance(0.5)) return [lit(rng.pick(leads)), ...s.parts];
  return s.parts;
}

type Template = (s: Slots, rng: Rng) => Piece[];

const TEMPLATES: Record<
  (typeof FASHION_MARKETPLACES)[number],
  { styles: [CaseStyle, number][]; list: Template[] }
> = {
  shopwave: {
    styles: [
      ['title', 8],
      ['asis', 2],
    ],
    list: [
      // Nike Men's Air Running Shoes - Black, UK 9
      (s, r) => [
        s.B,
        s.G,
        s.X,
        s.M,
        s.P,
        when(s.C, '-', s.C),
        when(s.S, s.C ? tight(',') : '-', sizeLead(r, s.S, ['Size'])),
      ],
      (s, r) => [
        s.B,
        s.G,
        s.P,
        s.X,
        when(s.M, tight(','), s.M),
        when(s.C, tight(','), s.C),
        when(s.S, tight(','), sizeLead(r, s.S, ['Size'])),
      ],
      (s) => [s.G, s.B, s.M, s.P, when(s.C, 'in', s.C), when(s.S, opening('('), s.S?.parts, tight(')'))],
      (s, r) => [s.B, s.X, s.P, s.GF, when(s.C, '-', s.C), when(s.S, '-', sizeLead(r, s.S, ['Size']))],
      (s, r) => [s.B, s.M, s.P, s.G, when(s.C, '|', s.C), when(s.S, '|', sizeLead(r, s.S, ['Size:']))],
    ],
  },
  modamarket: {
    styles: [
      ['asis', 5],
      ['title', 3],
      ['lower', 1],
    ],
    list: [
      // ZARA wool blend coat camel XL
      (s) => [s.B, s.M, s.P, s.C, s.S?.parts],
      (s) => [s.B, when(s.B, '|'), s.G, s.C, s.P],
      (s) => [s.P, when(s.C, 'in', s.C), when(s.B, '|', s.B)],
      (s) => [s.B, when(s.X, '-', s.X), s.C, s.M, s.P, s.S?.parts],
      (s, r) => [s.G, s.M, s.P, when(s.B, '-', s.B), when(s.S, tight(','), sizeLead(r, s.S, ['size']))],
      (s) => [s.C, s.P, s.GF, when(s.B, 'by', s.B)],
    ],
  },
  closetly: {
    styles: [
      ['lower', 7],
      ['asis', 3],
    ],
    list: [
      // women's red cotton t-shirt by Cotton On size M
      (s, r) => [s.G, s.C, s.M, s.P, when(s.B, 'by', s.B), when(s.S, sizeLead(r, s.S, ['size']))],
      (s, r) => [
        s.B,
        s.P,
        when(s.C, tight(','), s.C),
        when(s.S, tight(','), sizeLead(r, s.S, ['size', 'sz'])),
      ],
      (s) => [s.C, s.M, s.P, when(s.B, 'from', s.B), when(s.S, opening('('), s.S?.parts, tight(')'))],
      (s, r) => [when(s.S, sizeLead(r, s.S, ['size', 'sz'])), s.B, s.G, s.P, s.C],
      (s) => [s.B, s.M, s.P, s.GF, when(s.C, tight(','), s.C)],
      (s, r) => [
        s.P,
        s.GF,
        when(s.B, tight(','), s.B),
        when(s.S, tight(','), sizeLead(r, s.S, ['size', 'sz'])),
        s.C,
      ],
    ],
  },
  threadbay: {
    styles: [
      ['upper', 4],
      ['title', 4],
      ['asis', 2],
    ],
    list: [
      (s, r) => [s.B, s.G, s.P, s.C, sizeLead(r, s.S, ['SIZE', 'SZ', 'Size'])],
      (s, r) => [s.B, s.P, when(s.S, sizeLead(r, s.S, ['SZ', 'Size'])), s.C, s.M],
      (s) => [s.B, s.G, s.M, s.P, when(s.C, '-', s.C), when(s.S, '-', s.S?.parts)],
      (s, r) => [s.G, s.B, s.X, s.P, s.C, when(s.S, sizeLead(r, s.S, ['SIZE', 'Size']))],
      (s) => [s.B, s.C, s.M, s.P, s.S?.parts],
    ],
  },
};

function colorParts(rng: Rng, colors: string[], typoRate: number, abbrRate: number): Part[] | null {
  if (colors.length === 0) return null;
  const [a, b] = colors.map((c) => ent(surface(rng, c, typoRate, abbrRate), 'COLOR'));
  if (!b) return [a!];
  const joiner = rng.weighted([
    ['/', 3],
    ['and', 1],
    ['&', 1],
  ] as const);
  return joiner === '/' ? [a!, glue('/'), b] : [a!, lit(joiner), b];
}

function makeTitle(rng: Rng): {
  text: string;
  spans: Span[];
  label: FashionCategory;
  marketplace: FashionTitle['meta']['marketplace'];
} {
  const marketplace = rng.weighted(MARKETPLACE_WEIGHTS);
  if (rng.chance(0.01)) {
    const parts = [lit(rng.pick(NO_ENTITY_TITLES))];
    if (rng.chance(0.5)) parts.push(lit(rng.pick(NOISE_SUFFIX[marketplace]!)));
    const label = rng.pick(FASHION_CATEGORIES);
    return { ...assemble(parts), label, marketplace };
  }
  const p = sampleProduct(rng, { brand: 0.82, gender: 0.55, color: 0.72, twoColors: 0.15, material: 0.45 });
  const typoRate = marketplace === 'closetly' || marketplace === 'threadbay' ? 0.12 : 0.03;
  const abbrRate = marketplace === 'threadbay' ? 0.25 : 0.02;
  const gForm = p.gender && rng.chance(0.25) && !isChild(p.gender) && p.gender !== 'unisex';
  const slots: Slots = {
    B: p.brand ? ent(brandText(rng, p.brand), 'BRAND') : null,
    G: p.gender && !gForm ? ent(genderText(rng, p.gender, typoRate / 2), 'GENDER') : null,
    GF: p.gender && gForm ? [lit('for'), ent(GENDERS[p.gender].noun, 'GENDER')] : null,
    C: colorParts(rng, p.colors, typoRate, abbrRate),
    M: p.material ? ent(surface(rng, p.material, typoRate, abbrRate), 'MATERIAL') : null,
    P: ent(surface(rng, p.type.name, typoRate, abbrRate), 'PRODUCT_TYPE'),
    S: rng.chance(0.6) ? renderSize(rng, p.sizeSystem, p.gender) : null,
    X: rng.chance(0.25) ? lit(rng.pick(MODEL_WORDS)) : null,
  };
  // A template that has no place for the gender phrase gets the adjective form instead.
  const { styles, list } = TEMPLATES[marketplace];
  const template = rng.pick(list);
  let parts = flat(template(slots, rng));
  if (slots.GF && !parts.some((x) => x.label === 'GENDER')) {
    slots.G = ent(genderText(rng, p.gender!, 0), 'GENDER');
    slots.GF = null;
    parts = flat(template(slots, rng));
  }
  if (rng.chance(0.12)) parts.unshift(lit(rng.pick(NOISE_PREFIX[marketplace]!)));
  if (rng.chance(0.18)) parts.push(lit(rng.pick(NOISE_SUFFIX[marketplace]!)));
  parts = applyCase(parts, rng.weighted(styles), rng);
  return { ...assemble(parts), label: p.category, marketplace };
}

/** Generates `count` deduplicated synthetic product titles with entity spans and a category. */
export function generateTitles(count: number = DEFAULT_COUNTS.titles, seed: number = SEED): FashionTitle[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: FashionTitle[] = [];
  while (out.length < count) {
    const t = makeTitle(rng);
    const key = t.text.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const id = `t${String(out.length + 1).padStart(4, '0')}`;
    checkUnlabelled(t.text, t.spans, id);
    out.push({
      id,
      text: t.text,
      spans: t.spans,
      label: t.label,
      meta: { source: 'titles', marketplace: t.marketplace },
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Consistency guard: every colour/material/product word outside a span is a generator bug.

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const VOCAB_RE = (() => {
  const words = new Set<string>();
  for (const [c] of COLORS) words.add(c);
  for (const info of Object.values(CATEGORIES)) {
    for (const m of info.materials) words.add(m);
    for (const t of info.types) {
      words.add(t.name);
      for (const m of t.materials ?? []) words.add(m);
    }
  }
  for (const list of Object.values(TYPOS)) for (const w of list) words.add(w);
  const sorted = [...words].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return new RegExp(`(?<![\\p{L}\\p{N}])(?:${sorted.map(escapeRe).join('|')})(?![\\p{L}\\p{N}])`, 'iu');
})();

function checkUnlabelled(text: string, spans: readonly Span[], where: string): void {
  let masked = text;
  for (const s of spans)
    masked = masked.slice(0, s.start) + ' '.repeat(s.end - s.start) + masked.slice(s.end);
  const m = VOCAB_RE.exec(masked);
  if (m) {
    throw new SapphireError('INTERNAL', `${where}: unlabelled entity word "${m[0]}" in "${text}"`, {
      exampleId: where,
      hint: 'label the word in the generator template or reword the literal text',
    });
  }
}

// ---------------------------------------------------------------------------------------------
// HTML pages.

interface Site {
  key: 'northwind' | 'modamarket' | 'threadbay';
  name: string;
  domain: string;
  currency: string;
  colourWord: string;
}

const SITES: readonly Site[] = [
  {
    key: 'northwind',
    name: 'Northwind Outfitters',
    domain: 'northwind-outfitters.example',
    currency: '£',
    colourWord: 'Colour',
  },
  {
    key: 'modamarket',
    name: 'Modamarket',
    domain: 'modamarket.example',
    currency: '€',
    colourWord: 'Colour',
  },
  { key: 'threadbay', name: 'Threadbay', domain: 'threadbay.example', currency: '$', colourWord: 'Color' },
];

/** Text with labelled character spans, as rendered inside a page element. */
interface Labelled {
  text: string;
  spans: Span[];
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Renders labelled text as HTML, wrapping each span in `<span data-label="…">`. */
function labelledHtml({ text, spans }: Labelled): string {
  let html = '';
  let at = 0;
  for (const s of spans) {
    html += escapeHtml(text.slice(at, s.start));
    html += `<span data-label="${s.label}">${escapeHtml(text.slice(s.start, s.end))}</span>`;
    at = s.end;
  }
  return html + escapeHtml(text.slice(at));
}

interface PageSlots {
  brand: string;
  gender: string | null;
  genderNoun: string | null;
  product: string;
  material: string | null;
  color: string | null;
  color2: string | null;
  size: string | null;
  sizeMin: string | null;
  sizeMax: string | null;
  otherProduct: string;
  otherColor: string;
  year: string;
  /** Grammar words that follow the product type's number ("this"/"these", "is"/"are", …). */
  this: string;
  is: string;
  has: string;
  it: string;
  they: string;
}

type SlotName = keyof PageSlots;
const SLOT_LABEL: Partial<Record<SlotName, FashionLabel>> = {
  brand: 'BRAND',
  gender: 'GENDER',
  genderNoun: 'GENDER',
  product: 'PRODUCT_TYPE',
  material: 'MATERIAL',
  color: 'COLOR',
  color2: 'COLOR',
  size: 'SIZE',
  sizeMin: 'SIZE',
  sizeMax: 'SIZE',
  otherProduct: 'PRODUCT_TYPE',
  otherColor: 'COLOR',
};

const INTRO_SENTENCES = [
  'Meet the {product} from {brand}, a wardrobe staple that works as hard as you do.',
  '{this} {gender} {product} from {brand} {is} cut from {material} for an easy, everyday feel.',
  '{brand} brings back its best-selling {product}, now in {color}.',
  'Designed for {genderNoun} who like things simple, {this} {product} {is} clean and modern.',
  'A fresh take on a classic: the {color} {product} by {brand}.',
  'Our {product} {is} made from {material} and finished with tonal stitching.',
  'Crafted in {material}, the {brand} {product} {has} a soft hand and a relaxed feel.',
  'The {brand} {product} {is} available in {color} and {color2}.',
  'Part of the new season edit, {this} {product} from {brand} {is} made to be worn on repeat.',
  '{brand} made {this} {gender} {product} for long days and short nights.',
];
const DETAIL_SENTENCES = [
  'The {material} outer is lightweight yet hard-wearing.',
  'Finished in a rich shade of {color}, {they} can be worn with almost anything.',
  'Available in {color}, with contrast {color2} details.',
  'It is made with responsibly sourced {material}.',
  'We chose {material} because it gets better with every wear.',
  'A subtle logo from {brand} sits on the front.',
  'The {color} colourway is exclusive to our online store.',
];
const FIT_SENTENCES = [
  'Our model is 6\'1" and wears a size {size}.',
  'Fits true to size; if you are between sizes, we recommend sizing up to {size}.',
  'Sizes run from {sizeMin} to {sizeMax}.',
  'The model wears a {size}.',
  'Cut for a regular fit.',
];
const STYLE_SENTENCES = [
  'Pair {it} with {otherColor} {otherProduct} for an easy weekend look.',
  'Wear {it} with {otherProduct} on cooler days.',
  'Style {it} with {otherColor} {otherProduct} and you are ready to go.',
  'Team {it} with your favourite {otherProduct}.',
];
const BRAND_SENTENCES = [
  '{brand} has been perfecting its craft since {year}.',
  'Every piece from {brand} is designed in-house and made in small batches.',
];
const CARE_SENTENCES = [
  'Machine wash at 30 degrees and reshape while damp.',
  'Do not tumble dry.',
  'Please note that shades may vary slightly depending on your screen.',
  'Returns are free within 30 days.',
  'Part of our responsible collection.',
  'Wipe clean with a damp cloth.',
];
const REVIEW_SENTENCES = [
  'Lovely quality, I went for my usual {size} and it fits perfectly.',
  'Great {product}, the {color} is even nicer in person.',
  'Really happy with this, ordered a {size} and it is spot on.',
  'Second one I have bought from {brand}.',
];
const SELLERS = [
  'vintage_vault_uk',
  'closetclearout22',
  'kickz.depot',
  'the-rail-room',
  'secondloop',
  'mia_sells',
];
const REVIEWERS = ['Sam', 'Priya', 'Tom', 'Aisha', 'Jonas', 'Chloe', 'Marco', 'Ellie'];

/** Fills a sentence template; null when it needs a slot this product lacks. */
function fillSentence(template: string, slots: PageSlots): Labelled | null {
  let text = '';
  const spans: Span[] = [];
  let last = 0;
  for (const m of template.matchAll(/\{(\w+)\}/g)) {
    const name = m[1] as SlotName;
    const value = slots[name];
    if (value === null) return null;
    text += template.slice(last, m.index);
    const label = SLOT_LABEL[name];
    if (label) spans.push({ start: text.length, end: text.length + value.length, label });
    text += value;
    last = m.index + m[0].length;
  }
  text += template.slice(last);
  if (!(spans[0]?.start === 0 && spans[0].label === 'BRAND')) text = capFirst(text);
  return { text, spans };
}

function pickSentence(rng: Rng, pool: readonly string[], slots: PageSlots): Labelled | null {
  for (const t of rng.sample(pool, pool.length)) {
    const filled = fillSentence(t, slots);
    if (filled) return filled;
  }
  return null;
}

interface PageContent {
  title: Labelled;
  description: Labelled[];
  specs: { key: string; value: Labelled }[];
  sizes: Labelled;
  review: { who: string; text: Labelled } | null;
  price: string;
  oldPrice: string | null;
  sku: string;
}

/** 'f' or 'm' when the product is for women/girls or men/boys. */
function productSex(p: Product): 'f' | 'm' | undefined {
  if (p.type.g) return p.type.g;
  if (p.gender === 'women' || p.gender === 'girls') return 'f';
  if (p.gender === 'men' || p.gender === 'boys') return 'm';
  return undefined;
}

function makePageContent(rng: Rng, p: Product, site: Site): PageContent {
  const brand = p.brand!.name;
  const title = assemble(
    flat([
      ent(brand, 'BRAND'),
      p.gender && ent(rng.pick(GENDERS[p.gender].adj.filter((g) => g !== g.toUpperCase())), 'GENDER'),
      p.material && rng.chance(0.5) && ent(titleWord(p.material), 'MATERIAL'),
      ent(titleWord(p.type.name), 'PRODUCT_TYPE'),
      p.colors[0] && rng.chance(0.6) && ['-', ent(titleWord(p.colors[0]), 'COLOR')],
    ]),
  );
  const options = sizeOptions(rng, p.sizeSystem, p.gender);
  const sex = productSex(p);
  const others = CATEGORIES[p.category].pairs
    .flatMap((c) => CATEGORIES[c].types)
    .filter((t) => !t.g || t.g === sex);
  const genderAdj = p.gender
    ? rng.pick(GENDERS[p.gender].adj.filter((g) => g.includes("'") || g === 'Unisex'))
    : null;
  const size = options.length > 1 ? rng.pick(options) : null;
  // Plural product types ("jeans", "trainers") but not "dress".
  const plural = /[^s]s$/.test(p.type.name);
  const slots: PageSlots = {
    brand,
    gender: genderAdj ? genderAdj.toLowerCase() : null,
    genderNoun: p.gender && p.gender !== 'unisex' ? GENDERS[p.gender].noun : null,
    product: p.type.name,
    material: p.material,
    color: p.colors[0] ?? null,
    color2: p.colors[1] ?? null,
    size,
    sizeMin: options.length > 1 ? options[0]! : null,
    sizeMax: options.length > 1 ? options[options.length - 1]! : null,
    otherProduct: rng.pick(others).name,
    otherColor: rng.weighted(COLORS),
    year: String(rng.range(1948, 2016)),
    this: plural ? 'these' : 'this',
    is: plural ? 'are' : 'is',
    has: plural ? 'have' : 'has',
    it: plural ? 'them' : 'it',
    they: plural ? 'they' : 'it',
  };
  const pools = [DETAIL_SENTENCES, FIT_SENTENCES, STYLE_SENTENCES, BRAND_SENTENCES, CARE_SENTENCES];
  const chosen = [INTRO_SENTENCES, ...rng.sample(pools, rng.range(1, 4))];
  const description = chosen
    .map((pool) => pickSentence(rng, pool, slots))
    .filter((s): s is Labelled => s !== null);

  const specs: PageContent['specs'] = [{ key: 'Brand', value: assemble([ent(brand, 'BRAND')]) }];
  if (p.material) {
    const form = rng.int(3);
    const pct = rng.pick([60, 70, 80, 90, 95]);
    const second = rng.pick(
      ['elastane', 'polyamide', 'polyester', 'nylon', 'viscose'].filter((m) => m !== p.material),
    );
    const parts =
      form === 0
        ? [ent(p.material, 'MATERIAL')]
        : form === 1
          ? [lit('100%'), ent(p.material, 'MATERIAL')]
          : [
              lit(`${pct}%`),
              ent(p.material, 'MATERIAL'),
              tight(','),
              lit(`${100 - pct}%`),
              ent(second, 'MATERIAL'),
            ];
    specs.push({ key: 'Material', value: assemble(parts) });
  }
  if (p.colors.length > 0) {
    const parts = p.colors.flatMap((c, i) => (i === 0 ? [ent(c, 'COLOR')] : [glue('/'), ent(c, 'COLOR')]));
    specs.push({ key: site.colourWord, value: assemble(parts) });
  }
  if (p.gender) specs.push({ key: 'Gender', value: assemble([ent(GENDERS[p.gender].adj[0]!, 'GENDER')]) });
  specs.push({
    key: 'Fit',
    value: assemble([lit(rng.pick(['Regular fit', 'Relaxed fit', 'Slim fit', 'True to size']))]),
  });
  const sizes = assemble(
    options.flatMap((o, i) => (i === 0 ? [ent(o, 'SIZE')] : [tight(','), ent(o, 'SIZE')])),
  );

  let review: PageContent['review'] = null;
  if (rng.chance(0.4)) {
    const text = pickSentence(rng, REVIEW_SENTENCES, slots);
    if (text) review = { who: rng.pick(REVIEWERS), text };
  }
  const whole = rng.range(9, 240);
  const price = `${site.currency}${whole}.${rng.pick(['00', '50', '95', '99'])}`;
  const oldPrice = rng.chance(0.3) ? `${site.currency}${Math.round(whole * 1.4)}.00` : null;
  const sku = `${p.category.slice(0, 2).toUpperCase()}-${rng.range(1000, 9999)}-${rng.range(10, 99)}`;
  return { title, description, specs, sizes, review, price, oldPrice, sku };
}

const NAV_LINKS = ['Women', 'Men', 'Kids', 'New In', 'Shoes', 'Accessories', 'Sale'];
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-');

function headerHtml(site: Site): string {
  const links = NAV_LINKS.map((l) => `<li><a href="/${slug(l)}">${l}</a></li>`).join('');
  return [
    '<header class="site-header">',
    `<a class="logo" href="/">${escapeHtml(site.name)}</a>`,
    `<nav class="site-nav" aria-label="Main"><ul>${links}</ul></nav>`,
    '<form class="search" action="/search"><input type="search" name="q" placeholder="Search"></form>',
    '</header>',
  ].join('\n');
}

function breadcrumbHtml(p: Product, titleText: string): string {
  const sex = productSex(p);
  const section = p.gender === 'kids' ? 'Kids' : sex === 'm' ? 'Men' : sex === 'f' ? 'Women' : 'Shop';
  return [
    '<nav class="breadcrumbs" aria-label="Breadcrumb"><ol>',
    '<li><a href="/">Home</a></li>',
    `<li><a href="/${slug(section)}">${section}</a></li>`,
    `<li><a href="/${slug(section)}/${p.category}">${escapeHtml(CATEGORIES[p.category].nav)}</a></li>`,
    `<li aria-current="page">${escapeHtml(titleText)}</li>`,
    '</ol></nav>',
  ].join('');
}

const COOKIE_BANNER = [
  '<div class="cookie-banner" role="dialog" aria-label="Cookie consent">',
  '<p>We use cookies to improve your experience and to show you relevant offers. By continuing to browse you agree to our use of cookies.</p>',
  '<button type="button" class="accept">Accept all</button> <button type="button" class="manage">Manage preferences</button>',
  '</div>',
].join('\n');

function footerHtml(site: Site): string {
  return [
    '<footer class="site-footer">',
    '<div class="footer-links"><h2>Help</h2><ul><li><a href="/help/delivery">Delivery</a></li><li><a href="/help/returns">Returns</a></li><li><a href="/help/size-guide">Size guide</a></li><li><a href="/contact">Contact us</a></li></ul></div>',
    '<div class="newsletter"><p>Sign up for 10% off your first order.</p><form action="/newsletter" method="post"><input type="email" name="email" placeholder="Email address"><button type="submit">Subscribe</button></form></div>',
    `<p class="legal">&copy; ${escapeHtml(site.name)} Ltd. All rights reserved.</p>`,
    '</footer>',
  ].join('\n');
}

function mainHtml(site: Site, c: PageContent, rng: Rng): string {
  const h1 = labelledHtml(c.title);
  const desc = c.description.map((s) => `<p>${labelledHtml(s)}</p>`).join('\n');
  const price = c.oldPrice
    ? `<p class="price"><del>${c.oldPrice}</del> <ins>${c.price}</ins></p>`
    : `<p class="price">${c.price}</p>`;
  const sizes = `<p class="sizes">Available sizes: ${labelledHtml(c.sizes)}</p>`;
  const specList = `<ul class="specs">\n${c.specs.map((s) => `<li><strong>${s.key}:</strong> ${labelledHtml(s.value)}</li>`).join('\n')}\n</ul>`;
  const review = c.review
    ? `<section class="reviews"><h2>Reviews</h2><blockquote><p>${labelledHtml(c.review.text)}</p><p class="reviewer">${c.review.who}, verified buyer</p></blockquote></section>`
    : '';
  if (site.key === 'northwind') {
    return [
      '<main id="main">',
      '<article class="product">',
      `<h1>${h1}</h1>`,
      price,
      `<p class="sku">Product code: ${c.sku}</p>`,
      `<div class="description">\n${desc}\n</div>`,
      '<h2>Details</h2>',
      specList,
      sizes,
      review,
      '</article>',
      '</main>',
    ].join('\n');
  }
  if (site.key === 'modamarket') {
    const dl = c.specs.map((s) => `<dt>${s.key}</dt><dd>${labelledHtml(s.value)}</dd>`).join('\n');
    return [
      '<main id="main-content">',
      '<section class="product-detail">',
      `<div class="product-info"><h1 class="product-title">${h1}</h1>`,
      `<div class="price-box">${price}</div></div>`,
      '<section class="product-description">',
      '<h2>Description</h2>',
      desc,
      '</section>',
      '<section class="product-specs">',
      '<h2>Product details</h2>',
      `<dl>\n${dl}\n</dl>`,
      sizes,
      '</section>',
      review,
      '</section>',
      '</main>',
    ].join('\n');
  }
  const condition = rng.pick([
    'New with tags',
    'New without tags',
    'Pre-owned, excellent',
    'Pre-owned, good',
  ]);
  return [
    '<div role="main" class="listing-page">',
    '<article class="listing">',
    `<h1>${h1}</h1>`,
    `<p class="condition">Condition: ${condition}</p>`,
    price,
    `<p class="seller">Sold by <a href="/u/${rng.pick(SELLERS)}">a verified seller</a> &middot; ${rng.range(12, 980)} sold</p>`,
    '<h2>Item specifics</h2>',
    specList,
    sizes,
    '<h2>Item description</h2>',
    desc,
    review,
    '</article>',
    '</div>',
  ].join('\n');
}

function renderPage(id: string, p: Product, c: PageContent, site: Site, rng: Rng): string {
  const titleText = c.title.text;
  const metaDesc = c.description[0]?.text ?? titleText;
  const head = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(titleText)} | ${escapeHtml(site.name)}</title>`,
    `<meta name="description" content="${escapeHtml(metaDesc)}">`,
    `<meta property="og:title" content="${escapeHtml(titleText)}">`,
    `<meta property="og:site_name" content="${escapeHtml(site.name)}">`,
    `<meta name="sapphire:label" content="${p.category}">`,
    `<link rel="canonical" href="https://${site.domain}/p/${id}">`,
    '<link rel="stylesheet" href="/assets/site.css">',
  ];
  if (site.key === 'modamarket') {
    const ld = JSON.stringify({
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: titleText,
      sku: c.sku,
      brand: { '@type': 'Brand', name: p.brand!.name },
      offers: { '@type': 'Offer', price: c.price.slice(1), priceCurrency: 'EUR' },
    }).replace(/</g, '\\u003c');
    head.push(`<script type="application/ld+json">${ld}</script>`);
  }
  head.push('</head>');
  const related = `<aside class="related"><h2>You may also like</h2><ul>${rng
    .sample(['New arrivals', 'Best sellers', 'Back in stock', 'Gift ideas', 'Last chance'], 3)
    .map((r) => `<li><a href="/collections/${slug(r)}">${r}</a></li>`)
    .join('')}</ul></aside>`;
  const analytics = `<script>window.dataLayer = window.dataLayer || []; dataLayer.push({"event": "view_item", "item_id": "${id}", "sku": "${c.sku}"});</script>`;
  const body = [
    '<body>',
    COOKIE_BANNER,
    headerHtml(site),
    breadcrumbHtml(p, titleText),
    mainHtml(site, c, rng),
    related,
    footerHtml(site),
    analytics,
    '</body>',
    '</html>',
  ];
  return `${[...head, ...body].filter((l) => l !== '').join('\n')}\n`;
}

/** Generates `count` synthetic product pages (HTML with `data-label` spans and a `sapphire:label` meta). */
export function generatePages(count: number = DEFAULT_COUNTS.pages, seed: number = SEED + 1): FashionPage[] {
  const rng = new Rng(seed);
  const out: FashionPage[] = [];
  for (let i = 0; i < count; i++) {
    const id = `p${String(i + 1).padStart(3, '0')}`;
    // The first pages cycle through the categories so every category has pages; the rest follow the weights.
    const category = i < FASHION_CATEGORIES.length ? FASHION_CATEGORIES[i] : undefined;
    const p = sampleProduct(
      rng,
      { brand: 1, gender: 0.6, color: 0.95, twoColors: 0.3, material: 0.85 },
      category,
    );
    const site = rng.pick(SITES);
    const content = makePageContent(rng, p, site);
    const review = content.review ? [content.review.text] : [];
    for (const l of [
      content.title,
      ...content.description,
      ...content.specs.map((s) => s.value),
      ...review,
    ]) {
      checkUnlabelled(l.text, l.spans, id);
    }
    out.push({ id, label: p.category, html: renderPage(id, p, content, site, rng) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing files.

/** Writes `data/titles.jsonl` and `data/pages/<id>.html` under `outDir`, replacing earlier generated pages. */
export function writeFashionExample(
  outDir: string,
  counts: { titles: number; pages: number } = DEFAULT_COUNTS,
): { titles: number; pages: number } {
  const dataDir = join(outDir, 'data');
  const pagesDir = join(dataDir, 'pages');
  mkdirSync(pagesDir, { recursive: true });
  for (const f of readdirSync(pagesDir)) if (/^p\d+\.html$/.test(f)) rmSync(join(pagesDir, f));
  const titles = generateTitles(counts.titles);
  writeFileSync(join(dataDir, 'titles.jsonl'), titles.map((t) => JSON.stringify(t)).join('\n') + '\n');
  const pages = generatePages(counts.pages);
  for (const page of pages) writeFileSync(join(pagesDir, `${page.id}.html`), page.html);
  return { titles: titles.length, pages: pages.length };
}

const DEFAULT_OUT = resolve(dirname(fileURLToPath(import.meta.url)), '../examples/fashion');

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const outDir = resolve(process.argv[2] ?? DEFAULT_OUT);
  const n = writeFashionExample(outDir);
  console.log(`wrote ${n.titles} titles and ${n.pages} pages under ${join(outDir, 'data')}`);
}
