--[[
tools/tree.lua - the book's charts on a student's own code (pandoc 2.17 Lua
filter, after tools/include.lua).

`make book TREE=chapters` draws the charts from measurements of the
student's code (tools/bench-yours). Beside a chart's files in the
measurements folder (pandoc's resource path) that program may leave:

  NAME.missing   one line: why the chart was not drawn (a part the chart
                 runs is not done yet, or the code failed while measured).
                 The figure is replaced by its caption and that line, so
                 the book says so plainly instead of drawing nonsense or
                 stopping. A chart NAME-PART (picture-before) is covered by
                 NAME.missing (picture.missing) too.
  NAME.caption   one sentence added to the caption: whose curves these are
                 (yours, the reference's, the ideal) and what was left out;
                 NAME.caption covers NAME-PART too.

On the reference (TREE=solutions) neither file exists and nothing changes.
]]

local function read_line(path)
  for _, dir in ipairs(PANDOC_STATE.resource_path or { "." }) do
    local full = (dir == ".") and path or (dir .. "/" .. path)
    local f = io.open(full, "r")
    if f then
      local text = f:read("a"):gsub("%s+$", "")
      f:close()
      return text
    end
  end
  return nil
end

-- The inlines of a line of markdown.
local function inlines(text)
  local doc = pandoc.read(text, "markdown")
  return doc.blocks[1] and doc.blocks[1].content or {}
end

-- "01-gil/speedup-cpu.svg" -> "01-gil/speedup-cpu"; then the shorter names
-- that cover it: "03-processes/picture-before" -> "03-processes/picture".
local function names(src)
  local base = src:gsub("%.[%a]+$", "")
  local list = { base }
  local dir, file = base:match("^(.*/)([^/]+)$")
  dir, file = dir or "", file or base
  while file:find("-[^-]*$") do
    file = file:gsub("-[^-]*$", "")
    table.insert(list, dir .. file)
  end
  return list
end

function Para(para)
  if #para.content ~= 1 or para.content[1].t ~= "Image" then
    return nil
  end
  local img = para.content[1]
  for _, name in ipairs(names(img.src)) do
    local why = read_line(name .. ".missing")
    if why then
      local line = pandoc.List({ pandoc.Strong(img.caption), pandoc.Str(":"), pandoc.Space() })
      line:extend({ pandoc.Emph(inlines(why)) })
      -- The id the figure would have had (tools/number.lua), so that a
      -- reference to it still leads here.
      local id = img.identifier ~= "" and img.identifier
        or "fig:" .. img.src:gsub("%.[%w]+$", ""):gsub("[^%w]+", "-")
      return pandoc.Div({ pandoc.Para(line) }, pandoc.Attr(id, { "not-measured" }))
    end
  end
  local extra
  for _, name in ipairs(names(img.src)) do
    extra = extra or read_line(name .. ".caption")
  end
  if extra then
    local caption = pandoc.List(img.caption)
    caption:insert(pandoc.Str("."))
    caption:insert(pandoc.Space())
    caption:extend(inlines(extra))
    img.caption = caption
    return para
  end
  return nil
end
