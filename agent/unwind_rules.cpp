// See unwind_rules.hpp. The interpreter follows libgcc's unwind-dw2.c (execute_cfa_program and
// extract_cie_info) for the subset it accepts, and calls everything else kSlow.
#include "agent/unwind_rules.hpp"

#include <ucontext.h>

#include <atomic>
#include <cstddef>
#include <cstring>

extern "C" {
// libgcc's own lookup (linked statically into the agent): the FDE covering pc, through
// _dl_find_object, lock-free. Also exported by libgcc_s.so.1 (GCC_3.0).
struct dwarf_eh_bases {
  void* tbase;
  void* dbase;
  void* func;
};
const void* _Unwind_Find_FDE(void* pc, dwarf_eh_bases* bases);
}

namespace memscope::agent {
namespace {

constexpr unsigned kRegRbp = 6, kRegRsp = 7, kRegRa = 16;
constexpr uint8_t kEncOmit = 0xff;

// One table word: the address's bits above the index (34 bits: user space is 47 bits), then
// kind + 1 (3 bits, 0: empty), cfa_from_rbp (1), cfa_offset / 8 (16), rbp_slot (10).
constexpr unsigned kIndexBits = 13;
constexpr uintptr_t kUserLimit = uintptr_t{1} << 47;
std::atomic<uint64_t> g_table[1u << kIndexBits];

uint64_t pack(uintptr_t address, const FrameRule& r) {
  return (uint64_t{address >> kIndexBits} << 30) | (uint64_t(r.kind) + 1) << 27 |
         uint64_t(r.cfa_from_rbp) << 26 | uint64_t(r.cfa_offset / 8) << 10 | r.rbp_slot;
}

bool unpack(uint64_t word, uintptr_t address, FrameRule& r) {
  if ((word >> 30) != (address >> kIndexBits) || ((word >> 27) & 7) == 0) return false;
  r.kind = static_cast<FrameKind>(((word >> 27) & 7) - 1);
  r.cfa_from_rbp = (word >> 26) & 1;
  r.cfa_offset = static_cast<uint32_t>((word >> 10) & 0xffff) * 8;
  r.rbp_slot = static_cast<uint32_t>(word & 0x3ff);
  return true;
}

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool bad = false;

  uint8_t u8() {
    if (p >= end) return bad = true, 0;
    return *p++;
  }
  uint64_t fixed(unsigned bytes) {
    if (end - p < static_cast<ptrdiff_t>(bytes)) return bad = true, 0;
    uint64_t v = 0;
    std::memcpy(&v, p, bytes);
    p += bytes;
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return v;
    }
    return bad = true, v;
  }
  int64_t sleb() {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b = 0;
    do {
      b = u8();
      v |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
    } while ((b & 0x80) && shift < 64 && !bad);
    if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  void skip(uint64_t n) {
    if (static_cast<uint64_t>(end - p) < n) bad = true, n = static_cast<uint64_t>(end - p);
    p += n;
  }
};

// Size of a fixed-size pointer encoding (libgcc's size_of_encoded_value); 0: not fixed.
unsigned encoded_size(uint8_t enc) {
  switch (enc & 0x07) {
    case 0x00:
      return 8;  // absptr
    case 0x02:
      return 2;
    case 0x03:
      return 4;
    case 0x04:
      return 8;
    default:
      return 0;
  }
}

// The rules of the registers that matter here, as DWARF states them.
struct RegRule {
  enum How : uint8_t { kSame, kOffset, kUndefined, kOther } how = kSame;
  int64_t offset = 0;
};
struct State {
  unsigned cfa_reg = kRegRsp;
  int64_t cfa_offset = 0;
  bool cfa_other = false;  // an expression or another register
  RegRule rbp, ra, rsp;
};

RegRule* tracked(State& s, uint64_t reg) {
  if (reg == kRegRbp) return &s.rbp;
  if (reg == kRegRa) return &s.ra;
  if (reg == kRegRsp) return &s.rsp;
  return nullptr;
}

// DW_CFA_restore: back to the rule the CIE's initial instructions gave.
void restore_rule(State& s, const State& initial, uint64_t reg) {
  State copy = initial;
  if (RegRule* r = tracked(s, reg)) *r = *tracked(copy, reg);
}

void set_rule(State& s, uint64_t reg, RegRule::How how, int64_t offset = 0) {
  if (RegRule* r = tracked(s, reg)) *r = {how, offset};
}

struct Cie {
  uint64_t code_align = 1;
  int64_t data_align = 1;
  uint64_t ra_reg = kRegRa;
  uint8_t fde_enc = 0;
  bool has_z = false;
  bool signal = false;
  const uint8_t* insns = nullptr;
  const uint8_t* end = nullptr;
};

bool parse_cie(const uint8_t* cie, Cie& out) {
  uint32_t length;
  std::memcpy(&length, cie, 4);
  if (length == 0 || length == 0xffffffff) return false;
  Reader r{cie + 8, cie + 4 + length};
  uint8_t version = r.u8();
  const char* aug = reinterpret_cast<const char*>(r.p);
  size_t aug_len = strnlen(aug, static_cast<size_t>(r.end - r.p));
  r.skip(aug_len + 1);
  if (aug[0] != '\0' && aug[0] != 'z') return false;
  if (version >= 4) r.skip(2);  // address and segment sizes
  out.code_align = r.uleb();
  out.data_align = r.sleb();
  out.ra_reg = version == 1 ? r.u8() : r.uleb();
  if (aug[0] == 'z') {
    out.has_z = true;
    uint64_t data_len = r.uleb();
    const uint8_t* data_end = r.p + data_len;
    for (size_t i = 1; i < aug_len && !r.bad; ++i) {
      switch (aug[i]) {
        case 'L':
          r.u8();
          break;
        case 'R':
          out.fde_enc = r.u8();
          break;
        case 'S':
          out.signal = true;
          break;
        case 'B':
          break;
        case 'P': {
          uint8_t enc = r.u8();
          unsigned n = encoded_size(enc);
          if (n == 0 || (enc & 0x70) == 0x50) return false;
          r.skip(n);
          break;
        }
        default:
          return false;
      }
    }
    if (r.bad || data_end > r.end) return false;
    r.p = data_end;
  }
  out.insns = r.p;
  out.end = r.end;
  return !r.bad && encoded_size(out.fde_enc) != 0;
}

// Runs a CFA program up to (and including) the rows that cover `target`; false: unsupported.
bool run_program(Reader r, const Cie& cie, uintptr_t& loc, uintptr_t target, State& s,
                 const State& initial) {
  constexpr int kMaxRemembered = 8;
  State remembered[kMaxRemembered];
  int depth = 0;
  while (r.p < r.end && loc <= target && !r.bad) {
    uint8_t op = r.u8();
    uint8_t low = op & 0x3f;
    switch (op & 0xc0) {
      case 0x40:
        loc += low * cie.code_align;
        continue;
      case 0x80:
        set_rule(s, low, RegRule::kOffset, int64_t(r.uleb()) * cie.data_align);
        continue;
      case 0xc0:
        restore_rule(s, initial, low);
        continue;
      default:
        break;
    }
    switch (op) {
      case 0x00:
        break;  // nop
      case 0x02:
        loc += r.fixed(1) * cie.code_align;
        break;
      case 0x03:
        loc += r.fixed(2) * cie.code_align;
        break;
      case 0x04:
        loc += r.fixed(4) * cie.code_align;
        break;
      case 0x05: {  // offset_extended
        uint64_t reg = r.uleb();
        set_rule(s, reg, RegRule::kOffset, int64_t(r.uleb()) * cie.data_align);
        break;
      }
      case 0x06:
        restore_rule(s, initial, r.uleb());
        break;  // restore_extended
      case 0x07:
        set_rule(s, r.uleb(), RegRule::kUndefined);
        break;
      case 0x08:
        set_rule(s, r.uleb(), RegRule::kSame);
        break;
      case 0x09: {  // register
        uint64_t reg = r.uleb();
        r.uleb();
        set_rule(s, reg, RegRule::kOther);
        break;
      }
      case 0x0a:
        if (depth == kMaxRemembered) return false;
        remembered[depth++] = s;
        break;
      case 0x0b:  // restore_state: the whole row, CFA rule included, as unwind-dw2.c does
        if (depth == 0) return false;
        s = remembered[--depth];
        break;
      case 0x0c:  // def_cfa
        s.cfa_reg = static_cast<unsigned>(r.uleb());
        s.cfa_offset = static_cast<int64_t>(r.uleb());
        s.cfa_other = false;
        break;
      case 0x0d:
        s.cfa_reg = static_cast<unsigned>(r.uleb());
        s.cfa_other = false;
        break;
      case 0x0e:
        s.cfa_offset = static_cast<int64_t>(r.uleb());
        break;
      case 0x0f:
        r.skip(r.uleb());
        s.cfa_other = true;
        break;      // def_cfa_expression
      case 0x10:    // expression
      case 0x16: {  // val_expression
        uint64_t reg = r.uleb();
        r.skip(r.uleb());
        set_rule(s, reg, RegRule::kOther);
        break;
      }
      case 0x11: {  // offset_extended_sf
        uint64_t reg = r.uleb();
        set_rule(s, reg, RegRule::kOffset, r.sleb() * cie.data_align);
        break;
      }
      case 0x12:  // def_cfa_sf
        s.cfa_reg = static_cast<unsigned>(r.uleb());
        s.cfa_offset = r.sleb() * cie.data_align;
        s.cfa_other = false;
        break;
      case 0x13:
        s.cfa_offset = r.sleb() * cie.data_align;
        break;      // def_cfa_offset_sf
      case 0x14:    // val_offset
      case 0x15: {  // val_offset_sf
        uint64_t reg = r.uleb();
        if (op == 0x14)
          r.uleb();
        else
          r.sleb();
        set_rule(s, reg, RegRule::kOther);
        break;
      }
      case 0x2e:
        r.uleb();
        break;      // GNU_args_size
      case 0x2f: {  // GNU_negative_offset_extended
        uint64_t reg = r.uleb();
        set_rule(s, reg, RegRule::kOffset, -int64_t(r.uleb()) * cie.data_align);
        break;
      }
      default:
        return false;  // set_loc, window_save, vendor extensions
    }
  }
  return !r.bad;
}

// The rule a row states, or kSlow where this table cannot express it.
FrameRule to_rule(const State& s) {
  FrameRule rule;
  if (s.ra.how == RegRule::kUndefined) return {FrameKind::kEnd};
  if (s.cfa_other || (s.cfa_reg != kRegRsp && s.cfa_reg != kRegRbp)) return rule;
  if (s.ra.how != RegRule::kOffset || s.ra.offset != -8 || s.rsp.how != RegRule::kSame) return rule;
  if (s.cfa_offset <= 0 || s.cfa_offset % 8 != 0 || s.cfa_offset / 8 > 0xffff) return rule;
  if (s.rbp.how == RegRule::kOffset) {
    int64_t slot = -s.rbp.offset / 8;
    if (s.rbp.offset >= 0 || s.rbp.offset % 8 != 0 || slot > 0x3ff) return rule;
    rule.rbp_slot = static_cast<uint32_t>(slot);
  } else if (s.rbp.how != RegRule::kSame) {
    return rule;
  }
  rule.kind = FrameKind::kNormal;
  rule.cfa_from_rbp = s.cfa_reg == kRegRbp;
  rule.cfa_offset = static_cast<uint32_t>(s.cfa_offset);
  return rule;
}

FrameRule interpret(uintptr_t address) {
  dwarf_eh_bases bases;
  const auto* fde =
      static_cast<const uint8_t*>(_Unwind_Find_FDE(reinterpret_cast<void*>(address), &bases));
  if (fde == nullptr) return {FrameKind::kNoFde};
  uint32_t length, cie_offset;
  std::memcpy(&length, fde, 4);
  std::memcpy(&cie_offset, fde + 4, 4);
  if (length == 0xffffffff) return {};
  Cie cie;
  if (!parse_cie(fde + 4 - cie_offset, cie)) return {};
  if (cie.signal) return {FrameKind::kSignal};
  Reader r{fde + 8, fde + 4 + length};
  r.skip(2 * encoded_size(cie.fde_enc));  // pc_begin and pc_range: bases.func says where
  if (cie.has_z) r.skip(r.uleb());
  State initial;
  uintptr_t loc = reinterpret_cast<uintptr_t>(bases.func);
  uintptr_t cie_loc = 0;
  if (!run_program({cie.insns, cie.end}, cie, cie_loc, UINTPTR_MAX, initial, initial)) return {};
  State row = initial;
  if (r.bad || !run_program(r, cie, loc, address, row, initial)) return {};
  return to_rule(row);
}

}  // namespace

FrameRule frame_rule(uintptr_t address) {
  FrameRule rule;
  if (address >= kUserLimit) return rule;
  auto& slot = g_table[address & ((1u << kIndexBits) - 1)];
  if (unpack(slot.load(std::memory_order_relaxed), address, rule)) return rule;
  rule = interpret(address);
  // A pc no module holds may be one later (a module mapped there): that is asked again.
  if (rule.kind != FrameKind::kNoFde) slot.store(pack(address, rule), std::memory_order_relaxed);
  return rule;
}

FrameRule frame_rule(const Registers& r) {
  // A return address is looked up one byte back, inside its call (as libgcc does).
  return frame_rule(r.signal_frame ? r.pc : r.pc - 1);
}

Registers caller_of(const Registers& r, const FrameRule& rule) {
  if (rule.kind == FrameKind::kSignal) {
    const auto& gregs = reinterpret_cast<const ucontext_t*>(r.rsp)->uc_mcontext.gregs;
    return {static_cast<uintptr_t>(gregs[REG_RIP]), static_cast<uintptr_t>(gregs[REG_RSP]),
            static_cast<uintptr_t>(gregs[REG_RBP]), true};
  }
  uintptr_t cfa = (rule.cfa_from_rbp ? r.rbp : r.rsp) + rule.cfa_offset;
  uintptr_t rbp =
      rule.rbp_slot ? *reinterpret_cast<const uintptr_t*>(cfa - 8 * rule.rbp_slot) : r.rbp;
  return {*reinterpret_cast<const uintptr_t*>(cfa - 8), cfa, rbp, false};
}

namespace {
std::atomic<uint32_t> g_generation{0};
}  // namespace

void forget_frame_rules() {
  g_generation.fetch_add(1, std::memory_order_relaxed);
  for (auto& slot : g_table) slot.store(0, std::memory_order_relaxed);
}

uint32_t frame_rules_generation() {
  return g_generation.load(std::memory_order_relaxed);
}

}  // namespace memscope::agent
