// bfp_dot: block-floating-point dot-product unit (d-Matrix BFP / OCP MXINT blocks).
//
// Mantissas are P-bit sign-magnitude (sign in the top bit), exponents 8-bit stored E + 127.
// Each beat brings LANES mantissa pairs; a block is one or more beats, the last flagged `last`.
//   stage 1: s1_sum = sum over lanes of m_a * m_b (exact), s1_exp = the block's exponent
//            e = E_a + E_b - 2 (P - 2), taken from the block's first beat
//   stage 2: acc += s1_sum; on the last beat out_sum = the block total, out_exp = e (registered,
//            out_valid for one cycle) and acc restarts at 0
// The block's dot product is exactly out_sum * 2^out_exp: no rounding, bit-exact with
// archsim.hw.bfp.block_dot and archsim.numerics' BFP quantizer. ACC_W holds a block of BLOCK
// elements.  Python model: archsim/hw/bfp/dot.py (BfpDotModel).
`default_nettype none

module bfp_dot #(
    parameter integer P      = 4,    // mantissa bits including the sign (BFP12: 4)
    parameter integer LANES  = 4,    // multipliers per cycle
    parameter integer BLOCK  = 16,   // elements per block at most (sizes the accumulator)
    parameter integer BROKEN = 0     // 1: exponent offset 2 (P - 1) instead of 2 (P - 2)
) (
    input  wire                                   clk,
    input  wire                                   rst,
    input  wire                                   in_valid,
    input  wire [LANES*P-1:0]                     a_m,
    input  wire [LANES*P-1:0]                     b_m,
    input  wire [7:0]                             a_exp,
    input  wire [7:0]                             b_exp,
    input  wire                                   last,
    output reg                                    out_valid,
    output reg  signed [2*(P-1)+$clog2(BLOCK):0]  out_sum,
    output reg  signed [9:0]                      out_exp,
    output reg                                    dbg_s1_valid,
    output reg                                    dbg_s1_last,
    output reg  signed [2*(P-1)+$clog2(BLOCK):0]  dbg_s1_sum,
    output reg  signed [9:0]                      dbg_s1_exp,
    output reg  signed [2*(P-1)+$clog2(BLOCK):0]  dbg_acc,
    output reg  signed [9:0]                      dbg_acc_exp,
    output reg                                    dbg_first
);
    localparam integer ACC_W = 2 * (P - 1) + $clog2(BLOCK) + 1;
    localparam integer PROD_W = 2 * (P - 1);
    localparam integer OFFSET = (BROKEN == 1) ? 2 * (P - 1) : 2 * (P - 2);

    // stage 1: products of the lanes, summed
    reg signed [ACC_W-1:0] beat_sum;
    reg [PROD_W-1:0]       prod;
    integer l;
    always @* begin
        beat_sum = {ACC_W{1'b0}};
        for (l = 0; l < LANES; l = l + 1) begin
            prod = a_m[l*P +: P-1] * b_m[l*P +: P-1];
            if (a_m[l*P+P-1] ^ b_m[l*P+P-1])
                beat_sum = beat_sum - $signed({{(ACC_W-PROD_W){1'b0}}, prod});
            else
                beat_sum = beat_sum + $signed({{(ACC_W-PROD_W){1'b0}}, prod});
        end
    end
    wire signed [9:0] e_now = $signed({2'b00, a_exp}) + $signed({2'b00, b_exp}) - 10'sd254 - OFFSET[9:0];
    wire signed [9:0] e_use = dbg_first ? e_now : dbg_acc_exp;
    wire signed [ACC_W-1:0] total = dbg_acc + dbg_s1_sum;

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0; out_sum <= {ACC_W{1'b0}}; out_exp <= 10'sd0;
            dbg_s1_valid <= 1'b0; dbg_s1_last <= 1'b0; dbg_s1_sum <= {ACC_W{1'b0}}; dbg_s1_exp <= 10'sd0;
            dbg_acc <= {ACC_W{1'b0}}; dbg_acc_exp <= 10'sd0; dbg_first <= 1'b1;
        end else begin
            // stage 2
            out_valid <= 1'b0;
            if (dbg_s1_valid) begin
                if (dbg_s1_last) begin
                    out_valid <= 1'b1;
                    out_sum <= total;
                    out_exp <= dbg_s1_exp;
                    dbg_acc <= {ACC_W{1'b0}};
                end else begin
                    dbg_acc <= total;
                end
            end
            // stage 1
            dbg_s1_valid <= in_valid;
            if (in_valid) begin
                dbg_s1_last <= last;
                dbg_s1_sum <= beat_sum;
                dbg_s1_exp <= e_use;
                if (dbg_first)
                    dbg_acc_exp <= e_now;
                dbg_first <= last;
            end
        end
    end
endmodule

`default_nettype wire
